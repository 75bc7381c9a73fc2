//! Setting up room pairs and reading their frames, shared by the throughput and latency runs.

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::LoadError;
use crate::conn::{Ws, next_text, send_text, source_addr};
use crate::target::{
    Client, Frame, Kind, answer_ping, client_name, is_ping, is_relay, open, pair_up, verify_relay,
};

/// Two clients in a room of their own, each with the frame it sends to the other.
pub(crate) struct Pair {
    /// First member (Parley: the room's creator).
    pub(crate) a: Client,
    /// Second member (Parley: the joiner).
    pub(crate) b: Client,
    /// What `a` sends to reach `b`.
    pub(crate) a_to_b: Frame,
    /// What `b` sends to reach `a`.
    pub(crate) b_to_a: Frame,
}

/// Where and how to build the pairs.
pub(crate) struct PairPlan {
    pub(crate) kind: Kind,
    pub(crate) server: SocketAddr,
    /// Further instances (shared mode); see `spread::pair_servers`.
    pub(crate) also: Vec<SocketAddr>,
    pub(crate) pairs: usize,
    pub(crate) concurrency: usize,
    pub(crate) payload: Value,
}

/// Opens `2 * pairs` connections, one room per pair (each pair from its own source address,
/// so per-IP connection and join limits see two connections and one join), and checks one
/// relayed frame each way in full before any load is applied.
pub(crate) async fn build(plan: &PairPlan) -> Result<Vec<Pair>, LoadError> {
    let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for index in 0..plan.pairs {
        let (gate, kind, server, payload) =
            (gate.clone(), plan.kind, plan.server, plan.payload.clone());
        let also = plan.also.clone();
        tasks.spawn(async move {
            let _permit = gate
                .acquire_owned()
                .await
                .map_err(|_| LoadError::Closed("setup".into()))?;
            let source = source_addr(index, 1);
            let (server_a, server_b) = crate::spread::pair_servers(server, &also, index);
            let mut a = open(kind, server_a, source, &client_name("a", index)).await?;
            let mut b = open(kind, server_b, source, &client_name("b", index)).await?;
            pair_up(kind, &mut a, &mut b).await?;
            let mut pair = Pair {
                a_to_b: Frame::new(kind, &b.id, &payload)?,
                b_to_a: Frame::new(kind, &a.id, &payload)?,
                a,
                b,
            };
            check_once(kind, &mut pair, &payload).await?;
            Ok::<Pair, LoadError>(pair)
        });
    }
    let mut pairs = Vec::with_capacity(plan.pairs);
    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(pair)) => pairs.push(pair),
            Ok(Err(err)) => {
                first_error.get_or_insert(err);
            }
            Err(join) => {
                first_error.get_or_insert(LoadError::Closed(join.to_string()));
            }
        }
    }
    match first_error {
        Some(err) => Err(LoadError::Setup {
            built: pairs.len(),
            asked: plan.pairs,
            cause: Box::new(err),
        }),
        None => Ok(pairs),
    }
}

/// Sends one frame each way and verifies sender and payload of what arrives.
async fn check_once(kind: Kind, pair: &mut Pair, payload: &Value) -> Result<(), LoadError> {
    send_text(&mut pair.a.ws, pair.a_to_b.stamped(0)).await?;
    send_text(&mut pair.b.ws, pair.b_to_a.stamped(0)).await?;
    let got_b = next_relay(kind, &mut pair.b.ws).await?;
    verify_relay(kind, &got_b, &pair.a.id, payload)?;
    let got_a = next_relay(kind, &mut pair.a.ws).await?;
    verify_relay(kind, &got_a, &pair.b.id, payload)
}

/// Waits for the next relayed frame, answering pings on the way.
async fn next_relay(kind: Kind, ws: &mut Ws) -> Result<String, LoadError> {
    loop {
        let text = next_text(ws, std::time::Duration::from_secs(20)).await?;
        if is_relay(kind, &text) {
            return Ok(text);
        }
        if is_ping(kind, &text) {
            answer_ping(ws).await?;
        }
    }
}

/// Relayed frames taken from one socket in one go, and pings that need an answer.
#[derive(Default)]
pub(crate) struct Batch {
    /// Relayed frames' texts (only kept when `keep` was asked).
    pub(crate) texts: Vec<String>,
    /// Number of relayed frames.
    pub(crate) relays: u64,
    /// Number of application pings to answer.
    pub(crate) pings: usize,
}

/// Sorts `first` and whatever else is already readable on `ws` (up to `limit` frames) into a
/// batch, so that one wake-up and one flush serve many frames.
pub(crate) fn drain(
    kind: Kind,
    first: Option<Result<Message, tungstenite::Error>>,
    ws: &mut Ws,
    limit: usize,
    keep: bool,
) -> Result<Batch, LoadError> {
    let mut batch = Batch::default();
    let mut next = first;
    let mut handled = 0;
    loop {
        handled += 1;
        match next {
            Some(Ok(Message::Text(text))) => {
                if is_relay(kind, text.as_str()) {
                    batch.relays += 1;
                    if keep {
                        batch.texts.push(text.as_str().to_owned());
                    }
                } else if is_ping(kind, text.as_str()) {
                    batch.pings += 1;
                }
            }
            Some(Ok(Message::Close(frame))) => return Err(LoadError::Closed(format!("{frame:?}"))),
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(err.into()),
            None => return Err(LoadError::Closed("end of stream".into())),
        }
        if handled >= limit {
            break;
        }
        match ws.next().now_or_never() {
            Some(more) => next = more,
            None => break,
        }
    }
    Ok(batch)
}

/// Answers `count` pings on `ws`.
pub(crate) async fn answer_pings(ws: &mut Ws, count: usize) -> Result<(), LoadError> {
    for _ in 0..count {
        answer_ping(ws).await?;
    }
    Ok(())
}
