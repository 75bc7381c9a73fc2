//! One task per WebSocket: reads frames into the hub and writes its outbox.
//!
//! Built so an idle connection costs little memory: bytes are read into a buffer on the
//! stack only when the socket has some, frames are parsed in place ([`FrameReader`] keeps
//! only a frame that spans reads), outgoing frames are encoded into a buffer that is freed
//! once written, and pings and the idle timeout come from the server's keeper task (see
//! `Shared::check_liveness`), not from a timer in each connection. The task's future is a
//! hand-written state machine, [`Connection`], so that it holds each field once (an `async`
//! block keeps its captures and its locals apart): tokio rounds a task up to 128 bytes, and
//! this one fits in 256 with tokio's own 104.

use std::future::Future;
use std::mem::MaybeUninit;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parley_protocol::{ClientMessage, ErrorCode};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::Sleep;

use crate::hub::ConnId;
use crate::limits::TokenBucket;
use crate::metrics::ServerClose;
use crate::outbox::{Drained, Outbox};
use crate::shared::{Shared, lock};
use crate::ws::{self, Flow, FrameReader, Incoming, OnUpgrade, Socket};

mod talk;

use talk::{Outcome, Talk, dispatch};

/// Largest read at once; the buffer lives on the stack for one poll only.
const READ_CHUNK: usize = 8 * 1024;

/// Longest the server waits for the peer's close reply after its own close frame (a peer that
/// stopped reading, such as a slow consumer, never sends one).
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Shared-mode messages and refusals, in the order they arrived.
type Deferred = Vec<Result<ClientMessage, (ErrorCode, String)>>;

/// The task serving one connection, from the pending upgrade to the end.
pub(crate) struct Connection {
    state: State,
}

enum State {
    /// Waiting for hyper to hand over the upgraded connection.
    Upgrading {
        pending: OnUpgrade,
        shared: Arc<Shared>,
        ip: IpAddr,
    },
    /// Reading, writing, or parked until one of them can go on.
    Open(Open),
    /// Something asynchronous and rare (shared-mode messages, closing), boxed so its state
    /// is not part of every task; it gives the connection back to go on, or `None` at the end.
    Busy(Pin<Box<dyn Future<Output = Option<Open>> + Send>>),
    Done,
}

/// Why the connection ends.
enum End {
    /// The peer went away (or broke the stream): nothing more to say.
    Gone,
    /// The peer sent a close frame; the reply is in the write buffer.
    Replied,
    /// The server closes with this code and reason.
    Close(u16, &'static str),
}

/// What stopped the open connection's loop.
enum Step {
    End(End),
    /// Shared mode: messages for the backplane, whose handling is asynchronous.
    Deferred(Deferred),
}

/// An open connection's state between polls; see the module docs for why it is this small.
struct Open {
    io: Socket,
    shared: Arc<Shared>,
    outbox: Arc<Outbox>,
    reader: FrameReader,
    /// Encoded frames not yet written (empty, and so unallocated, while idle).
    unsent: Vec<u8>,
    /// Deadline of a write the socket is not taking (set only while one waits).
    stall: Option<Pin<Box<Sleep>>>,
    id: ConnId,
    talk: Talk,
    ip: IpAddr,
}

/// Serves one upgrading connection until it closes.
pub(crate) fn run(pending: OnUpgrade, shared: Arc<Shared>, ip: IpAddr) -> Connection {
    Connection {
        state: State::Upgrading {
            pending,
            shared,
            ip,
        },
    }
}

impl Future for Connection {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let state = &mut self.state;
        loop {
            match state {
                State::Upgrading { pending, .. } => {
                    let upgraded = std::task::ready!(Pin::new(pending).poll(cx));
                    let State::Upgrading { shared, ip, .. } = std::mem::replace(state, State::Done)
                    else {
                        return Poll::Ready(());
                    };
                    match upgraded {
                        Ok(upgraded) => *state = State::Open(Open::new(upgraded, shared, ip)),
                        Err(_) => {
                            lock(&shared.ips).close(ip);
                            return Poll::Ready(());
                        }
                    }
                }
                State::Open(open) => {
                    let step = std::task::ready!(open.poll(cx));
                    let State::Open(open) = std::mem::replace(state, State::Done) else {
                        return Poll::Ready(());
                    };
                    *state = State::Busy(match step {
                        Step::Deferred(messages) => Box::pin(open.deferred(messages)),
                        Step::End(end) => Box::pin(open.finish(end)),
                    });
                }
                State::Busy(work) => match std::task::ready!(work.as_mut().poll(cx)) {
                    Some(open) => *state = State::Open(open),
                    None => *state = State::Done,
                },
                State::Done => return Poll::Ready(()),
            }
        }
    }
}

impl Open {
    fn new(upgraded: hyper::upgrade::Upgraded, shared: Arc<Shared>, ip: IpAddr) -> Self {
        let (id, outbox) = shared.register();
        tracing::debug!(conn = id, %ip, "connection open");
        let bucket = TokenBucket::full(shared.config.limits.msg_burst, shared.now_ms());
        Self {
            io: Socket::new(upgraded),
            shared,
            outbox,
            reader: FrameReader::default(),
            unsent: Vec::new(),
            stall: None,
            id,
            talk: Talk::new(bucket),
            ip,
        }
    }

    /// Writes what is pending, takes what the outbox holds, reads what arrived; returns when
    /// the connection ends or shared-mode messages need awaiting.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Step> {
        let shared = Arc::clone(&self.shared);
        let limits = &shared.config.limits;
        loop {
            if !self.unsent.is_empty() {
                match self.poll_write(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(())) => return Poll::Ready(Step::End(End::Gone)),
                    Poll::Pending => {
                        let limit = limits.write_timeout;
                        let stall = self
                            .stall
                            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                        if stall.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(Step::End(End::Gone));
                        }
                        if self.unsent.len() > limits.max_write_buffer_bytes {
                            // Pongs pile up for a peer that pings but does not read.
                            return Poll::Ready(Step::End(End::Gone));
                        }
                    }
                }
            }
            if self.unsent.is_empty() {
                let batch = limits.write_buffer_bytes.max(1);
                if let Drained::Close(code, reason) =
                    self.outbox.drain_into(&mut self.unsent, batch, cx.waker())
                {
                    return Poll::Ready(Step::End(End::Close(code, reason)));
                }
                if !self.unsent.is_empty() {
                    continue;
                }
            }
            let mut buf = [const { MaybeUninit::<u8>::uninit() }; READ_CHUNK];
            let chunk = limits.read_buffer_bytes.clamp(1, READ_CHUNK);
            let mut read = ReadBuf::uninit(&mut buf[..chunk]);
            match Pin::new(&mut self.io).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(Step::End(End::Gone)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    return Poll::Ready(Step::End(End::Gone));
                }
                Poll::Ready(Ok(())) => {}
            }
            self.outbox.heard(shared.now_ms());
            if let Some(step) = self.on_bytes(read.filled_mut()) {
                return Poll::Ready(step);
            }
        }
    }

    /// Writes the unsent frames; `Err` if the socket failed.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ()>> {
        while !self.unsent.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.unsent) {
                Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(Err(())),
                // A short write (rare: the socket buffer filled) moves the rest to the front.
                Poll::Ready(Ok(n)) => drop(self.unsent.drain(..n.min(self.unsent.len()))),
                Poll::Pending => return Poll::Pending,
            }
        }
        match Pin::new(&mut self.io).poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => return Poll::Ready(Err(())),
            Poll::Pending => return Poll::Pending,
        }
        // Written: free the buffer (an idle connection holds none) and the deadline.
        self.unsent = Vec::new();
        self.stall = None;
        Poll::Ready(Ok(()))
    }

    /// Handles bytes just read; `Some` when the loop must return.
    fn on_bytes(&mut self, bytes: &mut [u8]) -> Option<Step> {
        let shared = &*self.shared;
        let (id, ip, outbox) = (self.id, self.ip, &*self.outbox);
        let (unsent, talk) = (&mut self.unsent, &mut self.talk);
        let max = shared.config.limits.max_frame_bytes;
        let mut outcome = Outcome::default();
        let fed = self.reader.feed(bytes, max, &mut |frame| {
            talk.on_frame(frame, (shared, id, ip), unsent, outbox, &mut outcome)
        });
        if let Err(violation) = fed {
            if violation.code == ws::read::close::TOO_BIG {
                shared.metrics.closed(ServerClose::TooLarge);
            }
            return Some(Step::End(End::Close(violation.code, violation.reason)));
        }
        if let Some(end) = outcome.end {
            return Some(Step::End(end));
        }
        if !outcome.deferred.is_empty() {
            return Some(Step::Deferred(outcome.deferred));
        }
        None
    }

    /// Shared mode: hands messages to the backplane in order, then goes on.
    async fn deferred(self, messages: Deferred) -> Option<Self> {
        let shared = &*self.shared;
        for message in messages {
            match (message, &shared.backplane) {
                (Ok(msg), Some(bp)) => bp.handle(shared, self.id, self.ip, msg).await,
                (Ok(msg), None) => dispatch(shared, self.id, self.ip, msg),
                (Err((code, text)), _) => shared.reject(self.id, code, text),
            }
        }
        Some(self)
    }

    /// Sends the close frame if the server ends the connection, then forgets the connection.
    async fn finish(mut self, end: End) -> Option<Self> {
        let (id, ip) = (self.id, self.ip);
        let limit = self.shared.config.limits.write_timeout;
        match end {
            End::Gone => tracing::debug!(conn = id, %ip, "connection closed by peer"),
            End::Replied => {
                tracing::debug!(conn = id, %ip, "connection closed by peer");
                let _ = self.flush(limit).await;
            }
            End::Close(code, reason) => {
                tracing::info!(conn = id, %ip, code, reason, "closing connection");
                ws::write::close(&mut self.unsent, Some(code), reason);
                if self.flush(limit).await {
                    // Wait (bounded) for the peer's close reply, dropping what it still
                    // sends: closing the socket with bytes unread would reset the TCP
                    // connection, and the peer could lose the close frame and its code.
                    let linger = limit.min(CLOSE_LINGER);
                    let _ = tokio::time::timeout(linger, self.until_close()).await;
                }
            }
        }
        if let Some(bp) = &self.shared.backplane {
            bp.disconnect(id).await;
        }
        self.shared.unregister(id, ip);
        None
    }

    /// Writes the unsent frames within `limit`; false if that failed.
    async fn flush(&mut self, limit: Duration) -> bool {
        let write = async {
            self.io.write_all(&self.unsent).await?;
            self.io.flush().await
        };
        matches!(tokio::time::timeout(limit, write).await, Ok(Ok(())))
    }

    /// Reads and drops frames until the peer's close frame, the end of the stream or an error.
    async fn until_close(&mut self) {
        let mut buf = vec![0u8; 1024];
        loop {
            let mut read = ReadBuf::new(&mut buf);
            let io = &mut self.io;
            if std::future::poll_fn(|cx| Pin::new(&mut *io).poll_read(cx, &mut read))
                .await
                .is_err()
            {
                return;
            }
            let bytes = read.filled().len();
            if bytes == 0 {
                return;
            }
            let mut closed = false;
            let fed = self
                .reader
                .feed(&mut buf[..bytes], usize::MAX, &mut |frame| {
                    closed = matches!(frame, Incoming::Close(..));
                    if closed { Flow::Stop } else { Flow::Continue }
                });
            if closed || fed.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every idle connection's task is this future: it must stay small (2,680 bytes once,
    /// with tungstenite's WebSocket and a timer inside; 904 with them trimmed; 256 as an
    /// `async` block around this crate's own frame reader). Tokio adds 104 bytes and rounds
    /// the task up to a multiple of 128: at most 152 keeps it at 256.
    #[test]
    fn connection_future_is_small() {
        let size = size_of::<Connection>();
        eprintln!("connection future: {size} bytes");
        assert!(size <= 152, "connection future grew to {size} bytes");
    }
}
