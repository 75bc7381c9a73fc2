//! Backplane health for `/metrics`: is Redis reachable, is this instance subscribed, and how
//! long Redis requests take (a Prometheus histogram).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in microseconds.
const BUCKETS_US: [u64; 9] = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 50_000, 250_000];

/// Lock-free counters of the backplane.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// The last Redis request succeeded.
    pub(crate) redis_up: AtomicBool,
    /// The pub/sub connection is subscribed to this instance's channel.
    pub(crate) subscribed: AtomicBool,
    pub(crate) subscribes: AtomicU64,
    pub(crate) delivered: AtomicU64,
    failures: AtomicU64,
    buckets: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Health {
    /// Records a finished request.
    pub(crate) fn request(&self, took: Duration, ok: bool) {
        self.redis_up.store(ok, Relaxed);
        if !ok {
            self.failures.fetch_add(1, Relaxed);
            return;
        }
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        for (bound, n) in BUCKETS_US.iter().zip(&self.buckets) {
            if us <= *bound {
                n.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }

    /// Able to serve shared-room requests right now.
    pub(crate) fn ready(&self) -> bool {
        self.subscribed.load(Relaxed)
    }

    /// Prometheus text for the backplane.
    pub(crate) fn render(&self, out: &mut String, instance: &str, local_sessions: usize) {
        let up = u8::from(self.redis_up.load(Relaxed) && self.subscribed.load(Relaxed));
        let mut line = |name: &str, help: &str, kind: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        line(
            "parley_backplane_up",
            "Whether Redis answers and this instance is subscribed (1) or not (0).",
            "gauge",
            format!("{up}"),
        );
        line(
            "parley_backplane_sessions",
            "Sessions on this instance.",
            "gauge",
            local_sessions.to_string(),
        );
        line(
            "parley_backplane_subscribes_total",
            "Times the pub/sub connection (re)subscribed.",
            "counter",
            self.subscribes.load(Relaxed).to_string(),
        );
        line(
            "parley_backplane_delivered_total",
            "Frames received from other instances and delivered here.",
            "counter",
            self.delivered.load(Relaxed).to_string(),
        );
        line(
            "parley_backplane_failures_total",
            "Redis requests that failed or timed out.",
            "counter",
            self.failures.load(Relaxed).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP parley_backplane_info This instance's id on the backplane.\n\
             # TYPE parley_backplane_info gauge\nparley_backplane_info{{instance=\"{instance}\"}} 1"
        );
        let name = "parley_backplane_request_seconds";
        let _ = writeln!(out, "# HELP {name} Redis request latency.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (bound, n) in BUCKETS_US.iter().zip(&self.buckets) {
            let le = *bound as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {}", n.load(Relaxed));
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}
