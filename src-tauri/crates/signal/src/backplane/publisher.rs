//! Frames for members on other instances leave through one task that batches them: a
//! connection queues its frame and reads its next one at once, instead of waiting for Redis.
//!
//! The queue is bounded in bytes: when Redis is slow the senders wait (backpressure, up to
//! the request timeout) and then hear `unavailable`; memory never grows past the budget.
//! The task takes everything queued, packs the frames for each instance into one message
//! (in queue order, so each sender's frames stay in order) and sends one pipeline of
//! `PUBLISH`es, one at a time. A pipeline that fails tells its senders the frames were lost.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parley_protocol::{ErrorCode, PeerId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use crate::hub::ConnId;
use crate::shared::{Shared, lock};

/// Bytes of frames that may wait for Redis, all connections together.
const QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Entries (frames and flush markers) that may wait.
const QUEUE_ITEMS: usize = 16 * 1024;
/// Most entries sent in one pipeline.
const BATCH_ITEMS: usize = 1024;

/// Why a frame was not queued.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// The queue stayed full for the whole request timeout (Redis too slow).
    #[error("shared room store busy; try again shortly")]
    Busy,
    /// The publishing task is gone (the server is stopping).
    #[error("shared room store unavailable")]
    Stopped,
}

/// A frame for `peer`, connected to `instance`.
pub(super) struct Outgoing {
    pub(super) instance: Arc<str>,
    pub(super) peer: PeerId,
    pub(super) frame: String,
    /// Who sent it (told if it is lost).
    pub(super) sender: ConnId,
}

enum Item {
    Frame {
        out: Outgoing,
        /// Its bytes in the queue's budget, given back when the item is dropped.
        _held: OwnedSemaphorePermit,
    },
    /// Answered once everything queued before it has been published (or has failed).
    Flushed(oneshot::Sender<()>),
}

/// The queue's sending side, shared by all connections.
pub(super) struct Publisher {
    tx: mpsc::Sender<Item>,
    rx: Mutex<Option<mpsc::Receiver<Item>>>,
    bytes: Arc<Semaphore>,
    timeout: Duration,
}

impl Publisher {
    pub(super) fn new(timeout: Duration) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_ITEMS);
        Self {
            tx,
            rx: Mutex::new(Some(rx)),
            bytes: Arc::new(Semaphore::new(QUEUE_BYTES)),
            timeout,
        }
    }

    /// Queues a frame; waits (at most the request timeout) while the queue is full.
    pub(super) async fn send(&self, out: Outgoing) -> Result<(), Refused> {
        let cost = (out.frame.len() + out.peer.0.len() + 32).min(QUEUE_BYTES);
        let cost = u32::try_from(cost).unwrap_or(u32::MAX);
        // Fast path: room in the queue (no timer).
        if let Ok(permit) = self.bytes.clone().try_acquire_many_owned(cost) {
            match self.tx.try_send(Item::Frame { out, _held: permit }) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Refused::Stopped),
                Err(mpsc::error::TrySendError::Full(item)) => {
                    return self.send_waiting(item).await;
                }
            }
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let acquire = self.bytes.clone().acquire_many_owned(cost);
        let permit = match tokio::time::timeout_at(deadline, acquire).await {
            Err(_) => return Err(Refused::Busy),
            Ok(Err(_)) => return Err(Refused::Stopped),
            Ok(Ok(permit)) => permit,
        };
        let sent =
            tokio::time::timeout_at(deadline, self.tx.send(Item::Frame { out, _held: permit }));
        match sent.await {
            Err(_) => Err(Refused::Busy),
            Ok(Err(_)) => Err(Refused::Stopped),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn send_waiting(&self, item: Item) -> Result<(), Refused> {
        match tokio::time::timeout(self.timeout, self.tx.send(item)).await {
            Err(_) => Err(Refused::Busy),
            Ok(Err(_)) => Err(Refused::Stopped),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Waits (bounded) until the frames queued so far have left, so a membership change
    /// that follows (leave, drop) reaches the room after them.
    pub(super) async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        let waited = async {
            if self.tx.send(Item::Flushed(done)).await.is_ok() {
                let _ = flushed.await;
            }
        };
        let _ = tokio::time::timeout(self.timeout, waited).await;
    }

    /// Frames waiting, in bytes (for metrics).
    pub(super) fn queued_bytes(&self) -> usize {
        QUEUE_BYTES - self.bytes.available_permits()
    }
}

/// Packs frames for one instance into one message: `b\n` then `<peer> <len>\n<frame>` each.
pub(super) fn pack<'a>(frames: impl IntoIterator<Item = (&'a PeerId, &'a str)>) -> String {
    let mut out = String::from("b\n");
    for (peer, frame) in frames {
        out.push_str(&peer.0);
        out.push(' ');
        out.push_str(&frame.len().to_string());
        out.push('\n');
        out.push_str(frame);
    }
    out
}

/// Reads a message [`pack`] made (without its `b\n`); stops at the first malformed record.
pub(super) fn unpack(mut rest: &str) -> impl Iterator<Item = (&str, &str)> {
    std::iter::from_fn(move || {
        let (header, after) = rest.split_once('\n')?;
        let (peer, len) = header.split_once(' ')?;
        let len: usize = len.parse().ok()?;
        let frame = after.get(..len)?;
        rest = after.get(len..)?;
        Some((peer, frame))
    })
}

/// The publishing task: runs until the server drops the queue.
pub(super) async fn run(shared: Arc<Shared>) {
    let Some(bp) = shared.backplane.as_ref() else {
        return;
    };
    let Some(mut rx) = lock(&bp.publisher.rx).take() else {
        return;
    };
    let mut items = Vec::with_capacity(BATCH_ITEMS);
    while rx.recv_many(&mut items, BATCH_ITEMS).await > 0 {
        publish(&shared, bp, &items).await;
        // Frees the queue's bytes and answers the flushes.
        for item in items.drain(..) {
            if let Item::Flushed(done) = item {
                let _ = done.send(());
            }
        }
    }
}

/// Publishes the frames among `items`, one message per instance; tells their senders if
/// Redis did not take them.
async fn publish(shared: &Shared, bp: &super::Backplane, items: &[Item]) {
    // Frames per instance, in queue order.
    let mut per_instance: Vec<(&Arc<str>, Vec<&Outgoing>)> = Vec::new();
    for item in items {
        if let Item::Frame { out, .. } = item {
            match per_instance.iter_mut().find(|(i, _)| **i == out.instance) {
                Some((_, frames)) => frames.push(out),
                None => per_instance.push((&out.instance, vec![out])),
            }
        }
    }
    if per_instance.is_empty() {
        return;
    }
    let messages: Vec<(String, String)> = per_instance
        .iter()
        .map(|(instance, frames)| {
            let packed = pack(frames.iter().map(|o| (&o.peer, o.frame.as_str())));
            (bp.store.channel_of(instance), packed)
        })
        .collect();
    if bp.store.publish(&messages).await.is_ok() {
        return;
    }
    let senders: HashSet<ConnId> = per_instance
        .iter()
        .flat_map(|(_, frames)| frames.iter().map(|o| o.sender))
        .collect();
    for sender in senders {
        shared.reject(
            sender,
            ErrorCode::Unavailable,
            "a signal could not be relayed: shared room store unreachable".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_frames_unpack_in_order() {
        let (a, b) = (PeerId("aa".into()), PeerId("bb".into()));
        let frames = [(&a, "{\"x\":\"1\\n2\"}"), (&b, ""), (&a, "{\"y\":\"é\"}")];
        let packed = pack(frames);
        let rest = packed.strip_prefix("b\n").unwrap();
        let got: Vec<_> = unpack(rest).collect();
        assert_eq!(
            got,
            vec![
                ("aa", "{\"x\":\"1\\n2\"}"),
                ("bb", ""),
                ("aa", "{\"y\":\"é\"}")
            ]
        );
        // A cut message yields the whole records only.
        let cut = &rest[..rest.len() - 2];
        assert_eq!(unpack(cut).count(), 2);
    }
}
