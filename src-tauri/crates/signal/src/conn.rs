//! One task per WebSocket: reads frames into the hub, writes its outbox, pings, times out.

use std::future::{Future, poll_fn};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use parley_protocol::{ClientMessage, ErrorCode, decode_client};
use tokio::time::Sleep;

use crate::limits::TokenBucket;
use crate::metrics::ServerClose;
use crate::shared::{CLOSE_POLICY, Next, Outbox, Shared, lock};

/// Close code for a message that is too big (RFC 6455, 7.4.1).
const CLOSE_TOO_BIG: u16 = 1009;

/// Longest the server waits for the peer's close reply after its own close frame (a peer that
/// stopped reading, such as a slow consumer, never sends one).
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Why the read loop ended: the peer went away, or the server closes with a code.
enum End {
    Gone,
    Close(u16, &'static str),
}

/// Serves one upgraded connection until it closes.
///
/// Not an `async fn`: that would move the arguments into locals and keep both copies in the
/// task, twice the WebSocket's 368 bytes; an `async move` block uses its captures in place.
#[allow(
    clippy::manual_async_fn,
    reason = "the async block halves the task size, see above"
)]
pub(crate) fn run(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    ip: IpAddr,
) -> impl Future<Output = ()> + Send {
    async move {
        let (conn, outbox) = shared.register();
        tracing::debug!(conn, %ip, "connection open");
        let limits = &shared.config.limits;
        let mut bucket = TokenBucket::full(limits.msg_burst, Instant::now());
        let mut violations = 0u32;
        let mut last_heard = Instant::now();
        // One timer per connection (its future stays small: memory per idle connection): it
        // fires for the next ping and doubles as the deadline of a write that has to wait.
        let timer = tokio::time::sleep(limits.ping_interval);
        tokio::pin!(timer);
        let end = loop {
            tokio::select! {
                () = outbox.notify.notified() => {
                    if let Some(end) = drain(&mut socket, timer.as_mut(), &outbox, &shared).await {
                        break end;
                    }
                }
                frame = socket.recv() => {
                    last_heard = Instant::now();
                    let text = match frame {
                        None => break End::Gone,
                        Some(Ok(Message::Close(_))) => {
                            // Sends the close reply tungstenite queued while reading.
                            let flush = socket.flush();
                            let _ = within(timer.as_mut(), limits.write_timeout, flush).await;
                            break End::Gone;
                        }
                        Some(Err(err)) => break read_error(err, &shared),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => None,
                        Some(Ok(Message::Text(text))) => Some(text),
                    };
                    if outbox.is_closing() {
                        // Condemned (slow consumer, replaced): nothing it says counts any more.
                        continue;
                    }
                    if !bucket.take(limits.msg_rate_per_sec, limits.msg_burst, last_heard) {
                        violations += 1;
                        if violations > limits.max_rate_violations {
                            shared.metrics.closed(ServerClose::RateAbuse);
                            break End::Close(CLOSE_POLICY, "too many messages");
                        }
                        shared.reject(conn, ErrorCode::RateLimited, "slow down".into());
                        continue;
                    }
                    shared.metrics.messages_in.fetch_add(1, Relaxed);
                    let Some(text) = text else {
                        shared.reject(conn, ErrorCode::BinaryFrame, "send JSON text frames".into());
                        continue;
                    };
                    match decode_client(&text) {
                        Ok(msg) => match &shared.backplane {
                            // Boxed: the shared-mode future is big and would otherwise be part of
                            // every connection's task, also in the modes that never use it.
                            Some(bp) => Box::pin(bp.handle(&shared, conn, ip, msg)).await,
                            None => dispatch(&shared, conn, ip, msg),
                        },
                        Err(err) => shared.reject(conn, err.code(), err.to_string()),
                    }
                }
                () = &mut timer => {
                    if last_heard.elapsed() >= limits.idle_timeout {
                        shared.metrics.closed(ServerClose::Idle);
                        break End::Close(CLOSE_POLICY, "idle timeout");
                    }
                    // `SinkExt::send`: its future is `Unpin`, as `within` needs.
                    let ping = SinkExt::send(&mut socket, Message::Ping(Default::default()));
                    let pinged = within(timer.as_mut(), limits.write_timeout, ping).await;
                    if !matches!(pinged, Some(Ok(()))) {
                        break End::Gone;
                    }
                    timer.as_mut().reset(tokio::time::Instant::now() + limits.ping_interval);
                }
            }
        };
        // Boxed: the close path runs once, so its state need not be part of the task all along.
        Box::pin(finish(socket, timer, &shared, conn, ip, end)).await;
    }
}

/// Sends the close frame if the server ends the connection, then forgets the connection.
async fn finish(
    mut socket: WebSocket,
    mut timer: Pin<&mut Sleep>,
    shared: &Shared,
    conn: u64,
    ip: IpAddr,
    end: End,
) {
    match &end {
        End::Gone => tracing::debug!(conn, %ip, "connection closed by peer"),
        End::Close(code, reason) => tracing::info!(conn, %ip, code, reason, "closing connection"),
    }
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let limit = shared.config.limits.write_timeout;
        let close = SinkExt::send(&mut socket, Message::Close(Some(frame)));
        if matches!(within(timer.as_mut(), limit, close).await, Some(Ok(()))) {
            // Wait (bounded) for the peer's close reply, dropping what it still sends:
            // closing the socket with bytes unread would reset the TCP connection, and the
            // peer could lose the close frame and its code.
            let rest = async {
                while let Some(Ok(frame)) = socket.recv().await {
                    if matches!(frame, Message::Close(_)) {
                        break;
                    }
                }
            };
            let mut rest = std::pin::pin!(rest);
            let _ = within(timer, limit.min(CLOSE_LINGER), rest.as_mut()).await;
        }
    }
    if let Some(bp) = &shared.backplane {
        bp.disconnect(conn).await;
    }
    shared.unregister(conn, ip);
}

/// Runs a write with a deadline of `limit`, `None` if it passed. Most writes finish on their
/// first poll; only one that has to wait arms `timer`, which is then set back to the
/// deadline it had (the next ping), so one timer serves both.
fn within<F: Future + Unpin>(
    mut timer: Pin<&mut Sleep>,
    limit: Duration,
    mut write: F,
) -> impl Future<Output = Option<F::Output>> {
    // A plain `poll_fn`, not an `async fn`: no state machine holding a second copy of `write`.
    let mut next_ping = None;
    poll_fn(move |cx| {
        let out = match Pin::new(&mut write).poll(cx) {
            Poll::Ready(out) => Some(out),
            Poll::Pending => {
                if next_ping.is_none() {
                    next_ping = Some(timer.deadline());
                    timer.as_mut().reset(tokio::time::Instant::now() + limit);
                }
                if timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                None
            }
        };
        if let Some(at) = next_ping.take() {
            timer.as_mut().reset(at);
        }
        Poll::Ready(out)
    })
}

/// Join attempts are limited per IP (guessing codes must take years), everything else goes
/// straight to the hub.
fn dispatch(shared: &Shared, conn: u64, ip: IpAddr, msg: ClientMessage) {
    if matches!(
        msg,
        ClientMessage::Join { .. } | ClientMessage::Knock { .. }
    ) {
        let limits = &shared.config.limits;
        let allowed =
            lock(&shared.ips).join(ip, limits.join_attempts, limits.join_window, Instant::now());
        if !allowed {
            let message = "too many join attempts; wait a few seconds".into();
            return shared.reject(conn, ErrorCode::RateLimited, message);
        }
    }
    shared.handle(conn, msg);
}

/// Oversized frames get close code 1009; any other read error means the peer is gone.
fn read_error(err: axum::Error, shared: &Shared) -> End {
    let inner = err.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => {
            shared.metrics.closed(ServerClose::TooLarge);
            End::Close(CLOSE_TOO_BIG, "message too big")
        }
        _ => End::Gone,
    }
}

/// Writes everything queued, then flushes once. `Some` when the connection must end.
async fn drain(
    socket: &mut WebSocket,
    mut timer: Pin<&mut Sleep>,
    outbox: &Outbox,
    shared: &Shared,
) -> Option<End> {
    let timeout = shared.config.limits.write_timeout;
    let mut wrote = false;
    let end = loop {
        match outbox.next() {
            Next::Idle => break None,
            Next::Close(code, reason) => break Some(End::Close(code, reason)),
            Next::Send(text) => {
                let fed = within(timer.as_mut(), timeout, socket.feed(Message::Text(text))).await;
                if !matches!(fed, Some(Ok(()))) {
                    return Some(End::Gone);
                }
                wrote = true;
            }
        }
    };
    if wrote && !matches!(within(timer, timeout, socket.flush()).await, Some(Ok(()))) {
        return Some(End::Gone);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Size of the future an async fn returns, without calling it.
    fn future_size<F: Future>(_: impl Fn(WebSocket, Arc<Shared>, IpAddr) -> F) -> usize {
        size_of::<F>()
    }

    /// Every idle connection holds this future: it must stay small (2,680 bytes once, when
    /// the shared-mode handler and the arguments' copies were part of it; 904 now).
    #[test]
    fn connection_future_is_small() {
        let size = future_size(run);
        eprintln!("conn::run future: {size} bytes");
        assert!(size <= 1024, "conn::run future grew to {size} bytes");
    }
}
