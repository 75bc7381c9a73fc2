//! What each message or control frame from the peer leads to: rate limits, decoding, the hub.

use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use parley_protocol::{ClientMessage, ErrorCode, decode_client};

use super::{Deferred, End};
use crate::hub::ConnId;
use crate::limits::TokenBucket;
use crate::metrics::ServerClose;
use crate::outbox::Outbox;
use crate::shared::{CLOSE_POLICY, Shared, lock};
use crate::ws::{self, Flow, Incoming};

/// Per-message bookkeeping, apart from the reader so both can be borrowed at once.
pub(super) struct Talk {
    bucket: TokenBucket,
    violations: u32,
}

impl Talk {
    pub(super) fn new(bucket: TokenBucket) -> Self {
        Self {
            bucket,
            violations: 0,
        }
    }
}

/// What the frames of one read lead to (on the stack: they last one read).
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) deferred: Deferred,
    pub(super) end: Option<End>,
}

/// The server, and which connection this is and from where.
pub(super) type Who<'a> = (&'a Shared, ConnId, IpAddr);

impl Talk {
    /// One whole message or control frame from the peer.
    pub(super) fn on_frame(
        &mut self,
        frame: Incoming<'_>,
        (shared, id, ip): Who<'_>,
        unsent: &mut Vec<u8>,
        outbox: &Outbox,
        out: &mut Outcome,
    ) -> Flow {
        let text = match frame {
            Incoming::Ping(payload) => {
                ws::write::pong(unsent, payload);
                return Flow::Continue;
            }
            Incoming::Pong => return Flow::Continue,
            Incoming::Close(code, _) => {
                // Echo the peer's code (RFC 6455, 5.5.1), then end.
                ws::write::close(unsent, code, "");
                out.end = Some(End::Replied);
                return Flow::Stop;
            }
            Incoming::Binary => None,
            Incoming::Text(text) => Some(text),
        };
        if outbox.is_closing() {
            // Condemned (slow consumer, replaced): nothing it says counts any more.
            return Flow::Continue;
        }
        let limits = &shared.config.limits;
        if !self
            .bucket
            .take(limits.msg_rate_per_sec, limits.msg_burst, shared.now_ms())
        {
            self.violations += 1;
            if self.violations > limits.max_rate_violations {
                shared.metrics.closed(ServerClose::RateAbuse);
                out.end = Some(End::Close(CLOSE_POLICY, "too many messages"));
                return Flow::Stop;
            }
            out.reply(id, shared, ErrorCode::RateLimited, "slow down".into());
            return Flow::Continue;
        }
        shared.metrics.messages_in.fetch_add(1, Relaxed);
        let Some(text) = text else {
            let message = "send JSON text frames".into();
            out.reply(id, shared, ErrorCode::BinaryFrame, message);
            return Flow::Continue;
        };
        match decode_client(text) {
            Ok(msg) if shared.backplane.is_some() => out.deferred.push(Ok(msg)),
            Ok(msg) => dispatch(shared, id, ip, msg),
            Err(err) => out.reply(id, shared, err.code(), err.to_string()),
        }
        Flow::Continue
    }
}

impl Outcome {
    /// Refuses a frame, in order with the shared-mode messages before it.
    fn reply(&mut self, id: ConnId, shared: &Shared, code: ErrorCode, message: String) {
        if shared.backplane.is_some() {
            self.deferred.push(Err((code, message)));
        } else {
            shared.reject(id, code, message);
        }
    }
}

/// Join attempts are limited per IP (guessing codes must take years), everything else goes
/// straight to the hub.
pub(super) fn dispatch(shared: &Shared, conn: ConnId, ip: IpAddr, msg: ClientMessage) {
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
