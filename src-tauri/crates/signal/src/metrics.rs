//! Counters behind `GET /metrics`, rendered in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use parley_protocol::ErrorCode;

/// Every error code, in the order of the per-code counters.
const ERROR_CODES: [ErrorCode; 15] = [
    ErrorCode::BadJson,
    ErrorCode::UnknownType,
    ErrorCode::BadMessage,
    ErrorCode::BinaryFrame,
    ErrorCode::TooLarge,
    ErrorCode::RateLimited,
    ErrorCode::NeedHello,
    ErrorCode::BadVersion,
    ErrorCode::NotInRoom,
    ErrorCode::AlreadyInRoom,
    ErrorCode::NoSuchPeer,
    ErrorCode::Forbidden,
    ErrorCode::BadToken,
    ErrorCode::NoSuchKnock,
    ErrorCode::Unavailable,
];

/// Why a WebSocket handshake was refused.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Rejection {
    Origin,
    PerIp,
    ShuttingDown,
}

/// Why the server closed a connection itself.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ServerClose {
    SlowConsumer,
    Idle,
    TooLarge,
    RateAbuse,
}

/// Server-wide counters (lock-free).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) open: AtomicU64,
    pub(crate) opened: AtomicU64,
    pub(crate) messages_in: AtomicU64,
    pub(crate) messages_out: AtomicU64,
    errors: [AtomicU64; ERROR_CODES.len()],
    rejected: [AtomicU64; 3],
    closed: [AtomicU64; 4],
}

impl Metrics {
    pub(crate) fn error(&self, code: ErrorCode) {
        if let Some(i) = ERROR_CODES.iter().position(|c| *c == code) {
            self.errors[i].fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn rejected(&self, why: Rejection) {
        self.rejected[why as usize].fetch_add(1, Relaxed);
    }

    pub(crate) fn closed(&self, why: ServerClose) {
        self.closed[why as usize].fetch_add(1, Relaxed);
    }

    /// The Prometheus exposition text; `rooms` comes from the hub.
    pub(crate) fn render(&self, rooms: usize) -> String {
        let mut out = String::with_capacity(2048);
        let mut gauge = |name: &str, help: &str, kind: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        gauge(
            "parley_connections",
            "Open WebSocket connections.",
            "gauge",
            self.open.load(Relaxed),
        );
        gauge(
            "parley_connections_total",
            "WebSocket connections accepted.",
            "counter",
            self.opened.load(Relaxed),
        );
        gauge("parley_rooms", "Rooms in existence.", "gauge", rooms as u64);
        gauge(
            "parley_messages_received_total",
            "Text frames received from clients.",
            "counter",
            self.messages_in.load(Relaxed),
        );
        gauge(
            "parley_messages_sent_total",
            "Messages queued to clients.",
            "counter",
            self.messages_out.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP parley_errors_total Error messages sent, by code."
        );
        let _ = writeln!(out, "# TYPE parley_errors_total counter");
        for (code, n) in ERROR_CODES.iter().zip(&self.errors) {
            let name = serde_json::to_value(code).ok();
            let name = name.as_ref().and_then(|v| v.as_str()).unwrap_or("unknown");
            let _ = writeln!(
                out,
                "parley_errors_total{{code=\"{name}\"}} {}",
                n.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP parley_handshakes_rejected_total Refused upgrades."
        );
        let _ = writeln!(out, "# TYPE parley_handshakes_rejected_total counter");
        for (reason, n) in ["origin", "per-ip", "shutting-down"]
            .iter()
            .zip(&self.rejected)
        {
            let _ = writeln!(
                out,
                "parley_handshakes_rejected_total{{reason=\"{reason}\"}} {}",
                n.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP parley_server_closes_total Connections the server closed."
        );
        let _ = writeln!(out, "# TYPE parley_server_closes_total counter");
        for (reason, n) in ["slow-consumer", "idle", "too-large", "rate-abuse"]
            .iter()
            .zip(&self.closed)
        {
            let _ = writeln!(
                out,
                "parley_server_closes_total{{reason=\"{reason}\"}} {}",
                n.load(Relaxed)
            );
        }
        out
    }
}
