//! Relay latency at a fixed offered load: an open loop (sends follow a clock, never the
//! answers), every payload stamped with its send time, delays kept in an HDR histogram.

use std::time::Duration;

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::conn::{Ws, send_text};
use crate::pairs::{Batch, Pair, answer_pings, drain};
use crate::procfs::CpuWindow;
use crate::target::{Kind, stamp_of};
use crate::{LoadError, Outcome};

/// Largest delay the histograms hold (60 s, in nanoseconds).
const MAX_TRACKED_NS: u64 = 60_000_000_000;

/// What the latency run needs beyond the pairs.
pub(crate) struct LatencyPlan {
    pub(crate) kind: Kind,
    pub(crate) label: String,
    pub(crate) server_pids: Vec<u32>,
    pub(crate) payload_bytes: usize,
    pub(crate) rate: f64,
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
    pub(crate) drain: Duration,
}

/// The clock shared by all pairs: the common epoch for stamps and the phases of the run.
#[derive(Clone, Copy)]
struct Schedule {
    epoch: Instant,
    warm_ns: u64,
    end_sends: Instant,
    end_all: Instant,
    period: Duration,
    rate: f64,
}

/// One pair's tallies, merged at the end.
struct Tally {
    delays: Histogram<u64>,
    lags: Histogram<u64>,
    sent: u64,
    received: u64,
}

fn histogram() -> Result<Histogram<u64>, LoadError> {
    Histogram::new_with_bounds(1, MAX_TRACKED_NS, 3)
        .map_err(|err| LoadError::Unexpected(err.to_string()))
}

/// Offers `rate` messages per second spread evenly over all pairs and directions.
pub(crate) async fn run(plan: LatencyPlan, pairs: Vec<Pair>) -> Result<Outcome, LoadError> {
    let pair_count = pairs.len().max(1);
    let epoch = Instant::now() + Duration::from_millis(100);
    let end_sends = epoch + plan.warmup + plan.measure;
    let schedule = Schedule {
        epoch,
        warm_ns: u64::try_from(plan.warmup.as_nanos()).unwrap_or(u64::MAX),
        end_sends,
        end_all: end_sends + plan.drain,
        period: Duration::from_secs_f64(pair_count as f64 / plan.rate),
        rate: plan.rate,
    };
    let mut tasks = JoinSet::new();
    for (index, pair) in pairs.into_iter().enumerate() {
        tasks.spawn(pace(plan.kind, pair, index, schedule));
    }
    tokio::time::sleep_until(epoch + plan.warmup).await;
    let cpu = CpuWindow::start(plan.server_pids.clone());
    tokio::time::sleep_until(end_sends).await;
    let (server_cpu_pct, loadgen_cpu_pct) = cpu.finish();
    let mut total = Tally {
        delays: histogram()?,
        lags: histogram()?,
        sent: 0,
        received: 0,
    };
    let mut failed_pairs = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined
            .map_err(|err| LoadError::Closed(err.to_string()))
            .and_then(|done| done)
        {
            Ok(tally) => {
                total
                    .delays
                    .add(&tally.delays)
                    .map_err(|err| LoadError::Unexpected(err.to_string()))?;
                total
                    .lags
                    .add(&tally.lags)
                    .map_err(|err| LoadError::Unexpected(err.to_string()))?;
                total.sent += tally.sent;
                total.received += tally.received;
            }
            Err(err) => {
                failed_pairs += 1;
                first_error.get_or_insert(err.to_string());
            }
        }
    }
    let micros = |quantile: f64| total.delays.value_at_quantile(quantile) as f64 / 1000.0;
    Ok(Outcome::Latency {
        server: plan.label,
        pairs: pair_count,
        payload_bytes: plan.payload_bytes,
        offered_per_sec: plan.rate,
        seconds: plan.measure.as_secs_f64(),
        sent: total.sent,
        received: total.received,
        lost: total.sent.saturating_sub(total.received),
        p50_us: micros(0.5),
        p90_us: micros(0.9),
        p99_us: micros(0.99),
        p999_us: micros(0.999),
        max_us: total.delays.max() as f64 / 1000.0,
        send_lag_p99_us: total.lags.value_at_quantile(0.99) as f64 / 1000.0,
        server_cpu_pct,
        loadgen_cpu_pct,
        failed_pairs,
        first_error,
    })
}

/// One pair's open loop: sends alternate a->b, b->a every `period`, the pair's first send
/// offset by `index / rate` so that all pairs together send at an even pace.
async fn pace(
    kind: Kind,
    mut pair: Pair,
    index: usize,
    schedule: Schedule,
) -> Result<Tally, LoadError> {
    let mut tally = Tally {
        delays: histogram()?,
        lags: histogram()?,
        sent: 0,
        received: 0,
    };
    let mut next_send = schedule.epoch + Duration::from_secs_f64(index as f64 / schedule.rate);
    let mut from_a = true;
    let end_all = tokio::time::sleep_until(schedule.end_all);
    tokio::pin!(end_all);
    loop {
        tokio::select! {
            () = &mut end_all => return Ok(tally),
            () = tokio::time::sleep_until(next_send), if next_send < schedule.end_sends => {
                let now = Instant::now();
                let stamp = nanos_between(schedule.epoch, now);
                if stamp >= schedule.warm_ns {
                    tally.sent += 1;
                    tally.lags.saturating_record(nanos_between(next_send, now).max(1));
                }
                if from_a {
                    send_text(&mut pair.a.ws, pair.a_to_b.stamped(stamp)).await?;
                } else {
                    send_text(&mut pair.b.ws, pair.b_to_a.stamped(stamp)).await?;
                }
                from_a = !from_a;
                next_send += schedule.period;
            }
            first = pair.a.ws.next() => {
                let batch = drain(kind, first, &mut pair.a.ws, usize::MAX, true)?;
                record(&mut tally, &batch, &schedule, &mut pair.a.ws).await?;
            }
            first = pair.b.ws.next() => {
                let batch = drain(kind, first, &mut pair.b.ws, usize::MAX, true)?;
                record(&mut tally, &batch, &schedule, &mut pair.b.ws).await?;
            }
        }
    }
}

/// Records the delay of every stamped frame in `batch` sent after the warm-up.
async fn record(
    tally: &mut Tally,
    batch: &Batch,
    schedule: &Schedule,
    ws: &mut Ws,
) -> Result<(), LoadError> {
    let now_ns = nanos_between(schedule.epoch, Instant::now());
    for text in &batch.texts {
        match stamp_of(text) {
            Some(stamp) if stamp >= schedule.warm_ns => {
                tally.received += 1;
                tally
                    .delays
                    .saturating_record(now_ns.saturating_sub(stamp).max(1));
            }
            Some(_) => {}
            None => {
                return Err(LoadError::Unexpected(format!(
                    "relayed frame lost its stamp: {text}"
                )));
            }
        }
    }
    answer_pings(ws, batch.pings).await
}

/// Nanoseconds from `earlier` to `later` (0 if `later` is not later).
fn nanos_between(earlier: Instant, later: Instant) -> u64 {
    u64::try_from(later.saturating_duration_since(earlier).as_nanos()).unwrap_or(u64::MAX)
}
