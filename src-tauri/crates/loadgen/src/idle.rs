//! Idle connections: how many the server holds and what each costs in resident memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;

use crate::conn::source_addr;
use crate::procfs::rss_kib;
use crate::target::{Client, Kind, answer_ping, client_name, is_ping, open};
use crate::{LoadError, Outcome};

/// What the idle scenario needs.
pub(crate) struct IdlePlan {
    pub(crate) kind: Kind,
    pub(crate) label: String,
    pub(crate) server: SocketAddr,
    pub(crate) server_pid: u32,
    pub(crate) conns: usize,
    pub(crate) per_ip: usize,
    pub(crate) concurrency: usize,
    pub(crate) hold: Duration,
    pub(crate) ramp_limit: Duration,
}

/// Counters shared by every connection task.
#[derive(Default)]
struct Tally {
    ready: AtomicUsize,
    failed: AtomicUsize,
    dropped: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

/// Opens `conns` connections, holds them idle for `hold`, and reports the server's RSS growth.
pub(crate) async fn run(plan: IdlePlan) -> Result<Outcome, LoadError> {
    let rss_before = rss_kib(plan.server_pid)?;
    let tally = Arc::new(Tally::default());
    let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    for index in 0..plan.conns {
        let (tally, gate, mut stop) = (tally.clone(), gate.clone(), stop_rx.clone());
        let (kind, server, source) = (plan.kind, plan.server, source_addr(index, plan.per_ip));
        tasks.spawn(async move {
            let opened = match gate.acquire_owned().await {
                Ok(_permit) => open(kind, server, source, &client_name("idle", index)).await,
                Err(_) => return,
            };
            match opened {
                Ok(client) => {
                    tally.ready.fetch_add(1, Ordering::Relaxed);
                    if !hold(kind, client, &mut stop).await {
                        tally.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(err) => {
                    tally.failed.fetch_add(1, Ordering::Relaxed);
                    tally
                        .first_error
                        .lock()
                        .await
                        .get_or_insert_with(|| format!("{source}: {err}"));
                }
            }
        });
    }
    // A benchmark driver, not a test: polling a counter while connections ramp up is fine.
    while tally.ready.load(Ordering::Relaxed) + tally.failed.load(Ordering::Relaxed) < plan.conns
        && started.elapsed() < plan.ramp_limit
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ramp_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(plan.hold).await;
    let rss_after = rss_kib(plan.server_pid)?;
    let ready = tally.ready.load(Ordering::Relaxed);
    let held = ready.saturating_sub(tally.dropped.load(Ordering::Relaxed));
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    let first_error = tally.first_error.lock().await.clone();
    let grown_bytes = rss_after.saturating_sub(rss_before) as f64 * 1024.0;
    Ok(Outcome::Idle {
        server: plan.label,
        asked: plan.conns,
        held,
        failed: tally.failed.load(Ordering::Relaxed),
        ramp_secs,
        hold_secs: plan.hold.as_secs_f64(),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        rss_per_conn_bytes: if held == 0 {
            0.0
        } else {
            grown_bytes / held as f64
        },
        first_error,
    })
}

/// Keeps one connection open and answering pings until told to stop; false if it dropped.
async fn hold(kind: Kind, mut client: Client, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        tokio::select! {
            _ = stop.changed() => return true,
            frame = client.ws.next() => match frame {
                Some(Ok(Message::Text(text))) if is_ping(kind, text.as_str()) => {
                    if answer_ping(&mut client.ws).await.is_err() {
                        return false;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return false,
                Some(Ok(_)) => {}
            },
        }
    }
}
