//! A connection's outgoing queue, as the hub fills it and the connection task drains it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::task::Waker;

use crate::shared::{CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY, lock};
use crate::ws;

/// Why the server closes a connection (one byte in every outbox, not a code and a string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Closing {
    /// Its queue overflowed: it does not read fast enough.
    SlowConsumer,
    /// The hub ended it (wrong owner token, replaced owner, shared-mode eviction).
    ByServer,
    /// The server is stopping.
    ShuttingDown,
    /// Nothing heard for the idle timeout.
    Idle,
}

impl Closing {
    /// The close frame's code and reason.
    pub(crate) fn frame(self) -> (u16, &'static str) {
        match self {
            Self::SlowConsumer => (CLOSE_POLICY, "too slow reading"),
            Self::ByServer => (CLOSE_NORMAL, "closed by server"),
            Self::ShuttingDown => (CLOSE_GOING_AWAY, "server shutting down"),
            Self::Idle => (CLOSE_POLICY, "idle timeout"),
        }
    }
}

/// What [`Outbox::drain_into`] left for the writer.
pub(crate) enum Drained {
    /// Frames were encoded (or nothing is queued); write them, then come back.
    Frames,
    /// Nothing queued and the connection is to be closed with this code and reason.
    Close(u16, &'static str),
}

#[derive(Default)]
struct OutboxState {
    /// Oldest first (a `Vec`, 8 bytes smaller than a `VecDeque`; it holds at most
    /// `queue_depth` frames, so taking from the front is cheap).
    queue: Vec<String>,
    close: Option<Closing>,
    /// The keeper asked for a ping.
    ping: bool,
    /// The connection task, parked until there is something to write.
    waker: Option<Waker>,
}

impl OutboxState {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// A connection's bounded outgoing queue and liveness clock. Empty, it holds no heap memory.
#[derive(Default)]
pub(crate) struct Outbox {
    state: Mutex<OutboxState>,
    /// When the peer was last heard (`Shared::now_ms`).
    heard_ms: AtomicU64,
    /// When the keeper last asked for a ping.
    pinged_ms: AtomicU64,
}

impl Outbox {
    /// Queues a frame; false (and the connection condemned) if `depth` frames are waiting.
    pub(crate) fn push(&self, text: String, depth: usize) -> bool {
        let mut state = lock(&self.state);
        if state.close.is_some() {
            return true;
        }
        if state.queue.len() >= depth {
            state.queue = Vec::new();
            state.close = Some(Closing::SlowConsumer);
            state.wake();
            return false;
        }
        state.queue.push(text);
        state.wake();
        true
    }

    /// Closes the connection once what is queued has been sent; false if it was already
    /// closing.
    pub(crate) fn close(&self, why: Closing) -> bool {
        let mut state = lock(&self.state);
        if state.close.is_some() {
            return false;
        }
        state.close = Some(why);
        state.wake();
        true
    }

    /// True once the connection is to be closed.
    pub(crate) fn is_closing(&self) -> bool {
        lock(&self.state).close.is_some()
    }

    /// The peer was heard from at `now_ms`.
    pub(crate) fn heard(&self, now_ms: u64) {
        self.heard_ms.store(now_ms, Relaxed);
    }

    /// When the peer was last heard from.
    pub(crate) fn heard_at(&self) -> u64 {
        self.heard_ms.load(Relaxed)
    }

    /// Encodes queued frames (and a requested ping) into `out` until it holds `limit` bytes,
    /// and leaves `waker` to be woken when more arrives.
    pub(crate) fn drain_into(&self, out: &mut Vec<u8>, limit: usize, waker: &Waker) -> Drained {
        let mut state = lock(&self.state);
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            state.waker = Some(waker.clone());
        }
        if std::mem::take(&mut state.ping) {
            ws::write::ping(out);
        }
        let mut taken = 0;
        for text in &state.queue {
            if out.len() >= limit {
                break;
            }
            ws::write::text(out, text);
            taken += 1;
        }
        state.queue.drain(..taken);
        if state.queue.is_empty() {
            // Nothing waits: give the memory back (most connections are idle most of the
            // time, and an empty `Vec::new()` holds none).
            state.queue = Vec::new();
            if out.is_empty()
                && let Some(why) = state.close
            {
                let (code, reason) = why.frame();
                return Drained::Close(code, reason);
            }
        }
        Drained::Frames
    }

    /// Asks for a ping if none was asked for in the last `interval_ms`.
    pub(crate) fn ping_if_due(&self, now_ms: u64, interval_ms: u64) {
        if now_ms.saturating_sub(self.pinged_ms.load(Relaxed)) < interval_ms {
            return;
        }
        self.pinged_ms.store(now_ms, Relaxed);
        let mut state = lock(&self.state);
        state.ping = true;
        state.wake();
    }
}
