//! `POST /introduce` (device servers): a device that has just started asks to be listed before
//! its mDNS announcement goes out (RFC 6762 probing holds that back for about a second).
//!
//! This module only checks the request's size, shape and rate; whoever embeds the server
//! (discovery) verifies the claim with `GET /device` at the request's source address and
//! answers through [`IntroductionRequest::reply`]. Without such a receiver the route is 404.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use parley_protocol::Introduction;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::config::Mode;
use crate::limits::PerIpWindows;
use crate::shared::{Shared, lock};

/// Largest accepted body; an introduction is about 60 bytes.
pub const MAX_INTRODUCTION_BYTES: usize = 1024;
/// Introductions accepted from one address per [`WINDOW`] (a device sends one per start).
const PER_IP: u32 = 10;
/// Window of [`PER_IP`].
const WINDOW: Duration = Duration::from_secs(10);
/// Addresses tracked for the rate limit; beyond that, new addresses are refused until windows end.
const MAX_TRACKED_IPS: usize = 1024;
/// Introductions being verified at once; more are refused (503).
const MAX_IN_FLIGHT: usize = 8;
/// Longest the receiver may take to verify one (its `GET /device` has its own, shorter timeout).
const VERDICT_TIMEOUT: Duration = Duration::from_secs(5);

/// One introduction for the embedder to verify.
#[derive(Debug)]
pub struct IntroductionRequest {
    /// Where the request came from (IPv4-mapped addresses unmapped): the only address the
    /// claim may be checked at, so a sender can only vouch for itself.
    pub from: IpAddr,
    /// What the sender claims.
    pub introduction: Introduction,
    /// The verdict; `Err` turns into a 422 whose body is the reason.
    pub reply: oneshot::Sender<Result<(), IntroductionRejected>>,
}

/// Why an introduction was refused (sent back to the sender as the 422 body).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct IntroductionRejected(pub String);

/// The receiver of introductions and the per-address rate limit.
pub(crate) struct Introductions {
    sink: Mutex<Option<mpsc::Sender<IntroductionRequest>>>,
    recent: Mutex<PerIpWindows>,
    in_flight: Semaphore,
}

impl Default for Introductions {
    fn default() -> Self {
        Self {
            sink: Mutex::new(None),
            recent: Mutex::new(PerIpWindows::default()),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }
}

impl Introductions {
    /// From now on, introductions go to the returned receiver (replacing any earlier one).
    pub(crate) fn receive(&self, capacity: usize) -> mpsc::Receiver<IntroductionRequest> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        *lock(&self.sink) = Some(tx);
        rx
    }

    /// Counts one introduction from `ip`; false when it is over the limit.
    fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let mut recent = lock(&self.recent);
        if recent.len() >= MAX_TRACKED_IPS && !recent.contains(ip) {
            recent.sweep(WINDOW, now);
            if recent.len() >= MAX_TRACKED_IPS {
                return false;
            }
        }
        recent.allow(ip, PER_IP, WINDOW, now)
    }
}

/// `POST /introduce`: 204 listed, 400 bad body, 404 not accepted here, 413 too big (axum's
/// body limit), 422 refused by the verifier, 429 too many, 503 busy or no verdict in time.
pub(crate) async fn introduce(
    State(shared): State<Arc<Shared>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Response {
    let sink = lock(&shared.introductions.sink).clone();
    let (Mode::Device { .. }, Some(sink)) = (&shared.config.mode, sink) else {
        return (StatusCode::NOT_FOUND, "introductions are not accepted here").into_response();
    };
    // Without a peer address there is nothing to verify the claim against.
    let Some(Extension(ConnectInfo(from))) = peer else {
        return (StatusCode::NOT_FOUND, "introductions are not accepted here").into_response();
    };
    let from = from.ip().to_canonical();
    if !shared.introductions.allow(from, Instant::now()) {
        return (StatusCode::TOO_MANY_REQUESTS, "too many introductions").into_response();
    }
    let introduction: Introduction = match serde_json::from_slice(&body) {
        Ok(introduction) => introduction,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad introduction: {e}")).into_response();
        }
    };
    let Ok(_permit) = shared.introductions.in_flight.try_acquire() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    };
    let (reply, verdict) = oneshot::channel();
    let request = IntroductionRequest {
        from,
        introduction,
        reply,
    };
    if sink.try_send(request).is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    }
    match tokio::time::timeout(VERDICT_TIMEOUT, verdict).await {
        Ok(Ok(Ok(()))) => StatusCode::NO_CONTENT.into_response(),
        Ok(Ok(Err(rejected))) => (StatusCode::UNPROCESSABLE_ENTITY, rejected.0).into_response(),
        Ok(Err(_)) | Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "no verdict").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_counts_per_address_and_resets_after_the_window() {
        let limits = Introductions::default();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        for _ in 0..PER_IP {
            assert!(limits.allow(a, t0));
        }
        assert!(!limits.allow(a, t0));
        assert!(limits.allow(b, t0), "another address has its own budget");
        assert!(limits.allow(a, t0 + WINDOW));
    }

    #[test]
    fn the_table_of_addresses_stays_bounded() {
        let limits = Introductions::default();
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED_IPS {
            let ip: IpAddr = std::net::Ipv6Addr::from(i as u128).into();
            assert!(limits.allow(ip, t0));
        }
        let newcomer: IpAddr = [10, 9, 9, 9].into();
        assert!(
            !limits.allow(newcomer, t0),
            "full while every window is open"
        );
        assert!(
            limits.allow(newcomer, t0 + WINDOW),
            "expired windows make room"
        );
        assert!(lock(&limits.recent).len() <= MAX_TRACKED_IPS);
    }
}
