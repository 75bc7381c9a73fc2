//! One task per WebSocket: reads frames into the hub, writes its outbox, pings, times out.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt as _;
use parley_protocol::{ClientMessage, ErrorCode, decode_client};

use crate::limits::TokenBucket;
use crate::metrics::ServerClose;
use crate::shared::{CLOSE_POLICY, Next, Outbox, Shared, lock};

/// Close code for a message that is too big (RFC 6455, 7.4.1).
const CLOSE_TOO_BIG: u16 = 1009;

/// Why the read loop ended: the peer went away, or the server closes with a code.
enum End {
    Gone,
    Close(u16, &'static str),
}

/// Serves one upgraded connection until it closes.
pub(crate) async fn run(mut socket: WebSocket, shared: Arc<Shared>, ip: IpAddr) {
    let (conn, outbox) = shared.register();
    tracing::debug!(conn, %ip, "connection open");
    let limits = &shared.config.limits;
    let mut bucket = TokenBucket::full(limits.msg_burst, Instant::now());
    let mut violations = 0u32;
    let mut last_heard = Instant::now();
    let tick = tokio::time::sleep(limits.ping_interval);
    tokio::pin!(tick);
    let end = loop {
        tokio::select! {
            () = outbox.notify.notified() => {
                if let Some(end) = drain(&mut socket, &outbox, &shared).await {
                    break end;
                }
            }
            frame = socket.recv() => {
                last_heard = Instant::now();
                let text = match frame {
                    None => break End::Gone,
                    Some(Ok(Message::Close(_))) => {
                        // Sends the close reply tungstenite queued while reading.
                        let _ = tokio::time::timeout(limits.write_timeout, socket.flush()).await;
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
                        Some(bp) => bp.handle(&shared, conn, ip, msg).await,
                        None => dispatch(&shared, conn, ip, msg),
                    },
                    Err(err) => shared.reject(conn, err.code(), err.to_string()),
                }
            }
            () = &mut tick => {
                if last_heard.elapsed() >= limits.idle_timeout {
                    shared.metrics.closed(ServerClose::Idle);
                    break End::Close(CLOSE_POLICY, "idle timeout");
                }
                let ping = tokio::time::timeout(limits.write_timeout, socket.send(Message::Ping(Default::default())));
                if !matches!(ping.await, Ok(Ok(()))) {
                    break End::Gone;
                }
                tick.as_mut().reset(tokio::time::Instant::now() + limits.ping_interval);
            }
        }
    };
    match &end {
        End::Gone => tracing::debug!(conn, %ip, "connection closed by peer"),
        End::Close(code, reason) => tracing::info!(conn, %ip, code, reason, "closing connection"),
    }
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(
            limits.write_timeout,
            socket.send(Message::Close(Some(frame))),
        )
        .await;
    }
    if let Some(bp) = &shared.backplane {
        bp.disconnect(conn).await;
    }
    shared.unregister(conn, ip);
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
async fn drain(socket: &mut WebSocket, outbox: &Outbox, shared: &Shared) -> Option<End> {
    let timeout = shared.config.limits.write_timeout;
    let mut wrote = false;
    let end = loop {
        match outbox.next() {
            Next::Idle => break None,
            Next::Close(code, reason) => break Some(End::Close(code, reason)),
            Next::Send(text) => {
                let fed = tokio::time::timeout(timeout, socket.feed(Message::Text(text))).await;
                if !matches!(fed, Ok(Ok(()))) {
                    return Some(End::Gone);
                }
                wrote = true;
            }
        }
    };
    if wrote
        && !matches!(
            tokio::time::timeout(timeout, socket.flush()).await,
            Ok(Ok(()))
        )
    {
        return Some(End::Gone);
    }
    end
}
