//! What the peer table holds and what it tells its listeners.

use std::net::{IpAddr, SocketAddr};

use parley_protocol::{DeviceInfo, PROTOCOL_VERSION};
use serde::Serialize;
use ts_rs::TS;

/// How a peer got into the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum PeerSource {
    /// Found by mDNS browsing.
    Mdns,
    /// Added by address ([`crate::Discovery::add_manual`]).
    Manual,
    /// Introduced itself (`POST /introduce`, [`crate::Discovery::accept_introduction`]) before
    /// its mDNS announcement went out, and answered `GET /device` with the same id at the
    /// address it came from. Its mDNS announcement later turns it into [`PeerSource::Mdns`].
    Introduced,
}

/// Another Parley device this device can reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    /// Stable device id (TXT `id`, or `GET /device`).
    pub id: String,
    /// Display name, any UTF-8.
    pub name: String,
    /// Addresses of its signaling server, best first (IPv4, global IPv6, link-local IPv6).
    pub addresses: Vec<IpAddr>,
    /// TCP port of its signaling server.
    pub port: u16,
    /// Protocol version it speaks; `None` if it did not say.
    pub version: Option<u32>,
    /// Whether its protocol version is the one this build speaks. Incompatible peers are listed
    /// (so the user sees them and can be told to update) but cannot be called.
    pub compatible: bool,
    /// App version, e.g. `0.1.0` (empty if unknown).
    pub app: String,
    /// Platform, e.g. `linux`, `android` (empty if unknown).
    pub os: String,
    /// How it was found.
    pub source: PeerSource,
    /// When it last answered (mDNS record or `/healthz`), in milliseconds since the Unix epoch.
    #[ts(type = "number")]
    pub last_seen_ms: u64,
}

impl Peer {
    /// The device that answered `GET /device` with `info` at `addr` (added by the user, or
    /// introduced itself), seen now.
    pub(crate) fn answered_at(info: DeviceInfo, addr: SocketAddr, source: PeerSource) -> Self {
        Peer {
            id: info.id,
            name: info.name,
            addresses: vec![addr.ip()],
            port: addr.port(),
            version: Some(info.version),
            compatible: info.version == PROTOCOL_VERSION,
            app: info.app,
            os: info.os,
            source,
            last_seen_ms: crate::discovery::now_ms(),
        }
    }

    /// True when the two describe the same device the same way (ignores `last_seen_ms`).
    pub(crate) fn same_as(&self, other: &Peer) -> bool {
        Peer {
            last_seen_ms: other.last_seen_ms,
            ..self.clone()
        } == *other
    }
}

/// Why a peer left the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum RemoveReason {
    /// It said goodbye over mDNS (or its records expired).
    Goodbye,
    /// It stopped answering `/healthz` (crash, network gone).
    Unreachable,
}

/// A change in the peer table.
///
/// Serialized as one JSON object tagged by `event`, e.g.
/// `{"event":"added","peer":{"id":"…","name":"…",…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum PeerEvent {
    /// A device appeared.
    Added {
        /// The device as now listed.
        peer: Peer,
    },
    /// A listed device changed (name, addresses, port, version…).
    Updated {
        /// The device as now listed.
        peer: Peer,
    },
    /// A device left.
    Removed {
        /// The device as it was last listed.
        peer: Peer,
        /// Why it left.
        reason: RemoveReason,
    },
}

impl PeerEvent {
    /// The peer the event is about.
    pub fn peer(&self) -> &Peer {
        match self {
            PeerEvent::Added { peer } | PeerEvent::Updated { peer } => peer,
            PeerEvent::Removed { peer, .. } => peer,
        }
    }
}
