//! Introductions: how a device that has just started gets listed before its mDNS announcement.
//!
//! Sending: each peer found in the first seconds gets `POST /introduce` with our id and port.
//! Receiving: the claim is checked with `GET /device` at the request's source address only, so
//! a sender can vouch for nobody but itself (see `docs/protocol.md`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use parley_protocol::Introduction;

use crate::error::IntroductionError;
use crate::peer::{Peer, PeerSource};
use crate::probe::{fetch_device_info, post_json};

/// How long one introduction to a peer may take (it verifies us with `GET /device` first).
const INTRODUCTION_TIMEOUT: Duration = Duration::from_secs(3);
/// Peers first found this soon after start (or after a new local address) get an
/// introduction. It spans our probing (about 1 s) and the browser's second and third queries
/// (about 1 s and 3 s): a peer that multicast its records less than 1 s before our first
/// query may not answer it (RFC 6762 section 6 rate limit) and is found only then.
pub(crate) const INTRODUCTION_WINDOW: Duration = Duration::from_secs(5);

/// Introduces us to a peer, trying its addresses in order until one accepts (another address
/// may work where one is refused, e.g. a link-local source the peer cannot check back). Best
/// effort: a peer that refuses (or is not a Parley device, or predates introductions) learns
/// about us from mDNS as before.
pub(crate) async fn send(introduction: Introduction, addrs: Vec<SocketAddr>) {
    let Ok(body) = serde_json::to_vec(&introduction) else {
        return;
    };
    for addr in addrs {
        match post_json(addr, "/introduce", &body, INTRODUCTION_TIMEOUT).await {
            Ok((204, _)) => {
                tracing::debug!(%addr, "introduced ourselves");
                return;
            }
            Ok((status, answer)) => {
                let answer = String::from_utf8_lossy(&answer);
                tracing::debug!(%addr, status, %answer, "introduction refused");
            }
            Err(e) => tracing::debug!(%addr, error = %e, "introduction not delivered"),
        }
    }
}

/// Checks a claim that came from `from`: the device at `from` and the claimed port must
/// report the claimed id. Returns the peer to list and where it answered.
pub(crate) async fn verify(
    from: IpAddr,
    introduction: &Introduction,
    own_id: &str,
    timeout: Duration,
) -> Result<(Peer, SocketAddr), IntroductionError> {
    if introduction.id == own_id {
        return Err(IntroductionError::IsSelf);
    }
    if introduction.port == 0 {
        return Err(IntroductionError::BadPort);
    }
    let addr = SocketAddr::new(from.to_canonical(), introduction.port);
    let info =
        fetch_device_info(addr, timeout)
            .await
            .map_err(|e| IntroductionError::NotADevice {
                addr,
                reason: e.to_string(),
            })?;
    if info.id != introduction.id {
        return Err(IntroductionError::WrongId {
            addr,
            claimed: introduction.id.clone(),
        });
    }
    let peer = Peer::answered_at(info, addr, PeerSource::Introduced);
    Ok((peer, addr))
}
