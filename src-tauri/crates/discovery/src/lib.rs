//! Parley LAN discovery.
//!
//! A device advertises its embedded signaling server as `_parley._tcp.local.` over mDNS (on
//! every usable interface, IPv4 and IPv6) with a TXT record that carries its stable id, display
//! name, protocol version, app version and platform. It browses the same type, ignores itself by
//! id, and keeps a [`Peer`] table whose changes it publishes as typed [`PeerEvent`]s.
//!
//! Leaving is fast on both paths:
//! - a device that shuts down sends mDNS goodbye packets, so the others drop it about 1 s later;
//! - a device that crashes stops answering `GET /healthz` on its signaling server; the liveness
//!   check (every [`LivenessConfig::period`], removed after [`LivenessConfig::misses`] misses)
//!   removes it within seconds instead of waiting for mDNS's 120 s TTL.
//!
//! Where multicast does not get through (AP isolation, firewalls) a device is added by address
//! ([`Discovery::add_manual`]): it is checked over `/healthz` and `GET /device` and then kept in
//! the table with the same liveness.
//!
//! A device that has just started cannot be announced before RFC 6762 probing ends (about
//! 0.75-1 s), but it hears the answers to its own first query within about 0.1 s. Each peer
//! found in the first seconds (or after a new local address appears) gets an introduction (`POST /introduce` on its
//! signaling server, body [`parley_protocol::Introduction`]); the peer's embedder passes it to
//! [`Discovery::accept_introduction`], which lists the sender as [`PeerSource::Introduced`] once
//! `GET /device` at the request's source address reports the claimed id. The announcement that
//! follows turns the listing into an mDNS one (an `Updated` event).
//!
//! This crate knows nothing about calls: it only finds devices and says how to reach them.
//!
//! ```no_run
//! # async fn demo(info: parley_protocol::DeviceInfo) -> Result<(), parley_discovery::DiscoveryError> {
//! use parley_discovery::{Discovery, DiscoveryConfig};
//! let discovery = Discovery::start(DiscoveryConfig::new(info, 8787))?;
//! let mut events = discovery.subscribe();
//! while let Ok(event) = events.recv().await {
//!     println!("{}", serde_json::to_string(&event).unwrap_or_default());
//! }
//! discovery.shutdown().await;
//! # Ok(()) }
//! ```

mod config;
mod device_id;
mod discovery;
mod error;
mod introduce;
mod peer;
mod probe;
mod table;
mod txt;

pub use config::{DiscoveryConfig, Interfaces, LivenessConfig};
pub use device_id::{load_or_create_device_id, new_device_id};
pub use discovery::Discovery;
pub use error::{AddPeerError, DiscoveryError, IntroductionError};
pub use peer::{Peer, PeerEvent, PeerSource, RemoveReason};
pub use probe::{ProbeError, fetch_device_info, healthz};

/// The DNS-SD service type every Parley device advertises and browses.
pub const SERVICE_TYPE: &str = "_parley._tcp.local.";
