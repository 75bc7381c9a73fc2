//! Relay throughput: every pair keeps a fixed window of messages in flight in both directions
//! (a closed loop: each delivery releases the next send), for a fixed time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::Ws;
use crate::pairs::{Pair, answer_pings, drain};
use crate::procfs::CpuWindow;
use crate::target::{Frame, Kind};
use crate::{LoadError, Outcome};

/// Most frames handled per wake-up before the other socket gets a turn.
const BATCH_LIMIT: usize = 64;

/// What the throughput run needs beyond the pairs.
pub(crate) struct ThroughputPlan {
    pub(crate) kind: Kind,
    pub(crate) label: String,
    pub(crate) server_pids: Vec<u32>,
    pub(crate) payload_bytes: usize,
    pub(crate) window: usize,
    pub(crate) warmup: Duration,
    pub(crate) measure: Duration,
}

/// Runs the closed loop on every pair and counts deliveries in the measured window.
pub(crate) async fn run(plan: ThroughputPlan, pairs: Vec<Pair>) -> Result<Outcome, LoadError> {
    let delivered = Arc::new(AtomicU64::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let pair_count = pairs.len();
    let mut tasks = JoinSet::new();
    for pair in pairs {
        let (delivered, stop) = (delivered.clone(), stop_rx.clone());
        tasks.spawn(pump(plan.kind, pair, plan.window, delivered, stop));
    }
    tokio::time::sleep(plan.warmup).await;
    let cpu = CpuWindow::start(plan.server_pids.clone());
    let start_count = delivered.load(Ordering::Relaxed);
    let mut per_second = Vec::new();
    let mut last = start_count;
    let whole_seconds = plan.measure.as_secs().max(1);
    let started = tokio::time::Instant::now();
    for second in 1..=whole_seconds {
        tokio::time::sleep_until(started + Duration::from_secs(second)).await;
        let now = delivered.load(Ordering::Relaxed);
        per_second.push(now - last);
        last = now;
    }
    let seconds = started.elapsed().as_secs_f64();
    let (server_cpu_pct, loadgen_cpu_pct) = cpu.finish();
    let total = last - start_count;
    let _ = stop_tx.send(true);
    let mut failed_pairs = 0;
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        if let Some(err) = joined
            .map_err(|err| err.to_string())
            .and_then(|done| done.map_err(|err| err.to_string()))
            .err()
        {
            failed_pairs += 1;
            first_error.get_or_insert(err);
        }
    }
    Ok(Outcome::Throughput {
        server: plan.label,
        pairs: pair_count,
        payload_bytes: plan.payload_bytes,
        window: plan.window,
        seconds,
        delivered: total,
        msgs_per_sec: total as f64 / seconds,
        per_second,
        server_cpu_pct,
        loadgen_cpu_pct,
        failed_pairs,
        first_error,
    })
}

/// One pair's closed loop: `window` frames in flight each way; every arrival sends a
/// replacement from the side that sent it.
async fn pump(
    kind: Kind,
    mut pair: Pair,
    window: usize,
    delivered: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), LoadError> {
    send_burst(&mut pair.a.ws, &mut pair.a_to_b, window as u64).await?;
    send_burst(&mut pair.b.ws, &mut pair.b_to_a, window as u64).await?;
    loop {
        tokio::select! {
            _ = stop.changed() => return Ok(()),
            first = pair.a.ws.next() => {
                let batch = drain(kind, first, &mut pair.a.ws, BATCH_LIMIT, false)?;
                answer_pings(&mut pair.a.ws, batch.pings).await?;
                delivered.fetch_add(batch.relays, Ordering::Relaxed);
                send_burst(&mut pair.b.ws, &mut pair.b_to_a, batch.relays).await?;
            }
            first = pair.b.ws.next() => {
                let batch = drain(kind, first, &mut pair.b.ws, BATCH_LIMIT, false)?;
                answer_pings(&mut pair.b.ws, batch.pings).await?;
                delivered.fetch_add(batch.relays, Ordering::Relaxed);
                send_burst(&mut pair.a.ws, &mut pair.a_to_b, batch.relays).await?;
            }
        }
    }
}

/// Queues `count` copies of `frame` on `ws` and writes them with one flush.
async fn send_burst(ws: &mut Ws, frame: &mut Frame, count: u64) -> Result<(), LoadError> {
    if count == 0 {
        return Ok(());
    }
    for _ in 0..count {
        ws.feed(Message::text(frame.stamped(0))).await?;
    }
    ws.flush().await?;
    Ok(())
}
