//! Rate limiting: a token bucket per connection, counters per IP address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Token bucket: `rate` tokens per second up to `burst`; one token per message. Eight bytes
/// (times in milliseconds of the server's clock, compared with wrapping arithmetic): every
/// connection holds one.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: f32,
    last_ms: u32,
}

impl TokenBucket {
    pub(crate) fn full(burst: u32, now_ms: u64) -> Self {
        Self {
            tokens: burst as f32,
            last_ms: now_ms as u32,
        }
    }

    /// Takes a token if there is one.
    pub(crate) fn take(&mut self, rate: u32, burst: u32, now_ms: u64) -> bool {
        // Truncating is the point: the difference of two wrapped times is right for gaps
        // under 49 days, and a connection is never silent that long (idle timeout).
        let now = now_ms as u32;
        let elapsed = now.wrapping_sub(self.last_ms) as f32 / 1000.0;
        self.last_ms = now;
        self.tokens = (self.tokens + elapsed * rate as f32).min(burst as f32);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Events counted per IP address in fixed windows (join attempts, introductions).
#[derive(Debug, Default)]
pub(crate) struct PerIpWindows(HashMap<IpAddr, (Instant, u32)>);

impl PerIpWindows {
    /// Counts an event from `ip`; false if it is over `max` in the current `window`.
    pub(crate) fn allow(&mut self, ip: IpAddr, max: u32, window: Duration, now: Instant) -> bool {
        let (start, n) = self.0.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(*start) >= window {
            *start = now;
            *n = 0;
        }
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// Forgets windows that ended.
    pub(crate) fn sweep(&mut self, window: Duration, now: Instant) {
        self.0
            .retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
    }

    /// Addresses tracked.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// True if `ip` has a window (ended or not).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains_key(&ip)
    }
}

/// Open connections and recent join attempts per IP address.
#[derive(Debug, Default)]
pub(crate) struct IpTable {
    conns: HashMap<IpAddr, u32>,
    joins: PerIpWindows,
}

impl IpTable {
    /// Counts a new connection from `ip` unless it already has `max`.
    pub(crate) fn open(&mut self, ip: IpAddr, max: u32) -> bool {
        let n = self.conns.entry(ip).or_insert(0);
        if *n >= max {
            return false;
        }
        *n += 1;
        true
    }

    /// A connection from `ip` closed.
    pub(crate) fn close(&mut self, ip: IpAddr) {
        if let Some(n) = self.conns.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.conns.remove(&ip);
            }
        }
    }

    /// Counts a join attempt from `ip`; false if it is over `attempts` in the current window.
    pub(crate) fn join(
        &mut self,
        ip: IpAddr,
        attempts: u32,
        window: Duration,
        now: Instant,
    ) -> bool {
        self.joins.allow(ip, attempts, window, now)
    }

    /// Forgets join windows that ended.
    pub(crate) fn sweep(&mut self, window: Duration, now: Instant) {
        self.joins.sweep(window, now);
    }
}
