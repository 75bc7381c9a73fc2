//! Discovery settings: what to advertise, where, and how hard to check liveness.

use std::time::Duration;

use parley_protocol::DeviceInfo;

/// Which network interfaces mDNS runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interfaces {
    /// Every usable interface, IPv4 and IPv6 (production).
    All,
    /// Only the IPv4 loopback interface (tests on one host, nothing leaves the machine).
    LoopbackOnly,
}

/// How the liveness check probes each peer's `GET /healthz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LivenessConfig {
    /// Time between two probes of the same peer.
    pub period: Duration,
    /// How long one probe may take (connect + answer) before it counts as a miss.
    pub timeout: Duration,
    /// Consecutive misses after which the peer is removed.
    pub misses: u32,
}

impl Default for LivenessConfig {
    /// 1 s period, 800 ms timeout, 2 misses: a crashed peer goes within about 2-3 s.
    fn default() -> Self {
        Self {
            period: Duration::from_secs(1),
            timeout: Duration::from_millis(800),
            misses: 2,
        }
    }
}

/// Everything [`crate::Discovery::start`] needs.
#[derive(Clone, Debug)]
pub struct DiscoveryConfig {
    /// What this device advertises (id, name, versions, platform).
    pub info: DeviceInfo,
    /// TCP port of this device's signaling server (the SRV port).
    pub port: u16,
    /// UDP port mDNS uses; 5353 except in tests that want a private multicast "LAN".
    pub mdns_port: u16,
    /// Interfaces to advertise and browse on.
    pub interfaces: Interfaces,
    /// Liveness probing of discovered and manually added peers.
    pub liveness: LivenessConfig,
    /// How often mdns-sd re-reads the interface list (new addresses, interfaces up/down).
    pub ip_check_interval: Duration,
}

impl DiscoveryConfig {
    /// Production settings for a device whose signaling server listens on `port`.
    pub fn new(info: DeviceInfo, port: u16) -> Self {
        Self {
            info,
            port,
            mdns_port: mdns_sd::MDNS_PORT,
            interfaces: Interfaces::All,
            liveness: LivenessConfig::default(),
            ip_check_interval: Duration::from_secs(2),
        }
    }
}
