//! Everything a server is told at start-up: its policy, its limits and its ICE servers.

use std::path::PathBuf;
use std::time::Duration;

use parley_protocol::{DeviceInfo, MAX_FRAME_BYTES};

/// What the server is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `parley-server`: anyone may create rooms and join them by code.
    Public {
        /// Most members per room (2..=8).
        capacity: u8,
    },
    /// A device's embedded server: strangers knock, the owner answers.
    Device {
        /// Secret that makes a connection the owner (`hello.token`).
        owner_token: String,
        /// What `GET /device` reports (can change at run time, see `ServerHandle`).
        info: DeviceInfo,
    },
}

/// Smallest and largest room capacity in public mode.
pub const CAPACITY_RANGE: std::ops::RangeInclusive<u8> = 2..=8;

/// Per-connection and per-address limits. `Default` gives the production values.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest WebSocket message and frame; bigger ones close the connection with 1009.
    pub max_frame_bytes: usize,
    /// Most bytes taken from the socket in one read (at most 8 KiB). They are read into a
    /// buffer on the stack, so this costs no memory per idle connection; a frame longer than
    /// this still arrives whole, it only takes more reads.
    pub read_buffer_bytes: usize,
    /// Queued frames are gathered up to this many bytes into one write (the buffer is freed
    /// once written; 0 writes each frame on its own).
    pub write_buffer_bytes: usize,
    /// Most bytes a connection's write buffer may hold while the peer is not reading (pongs
    /// to its pings) before it counts as stuck.
    pub max_write_buffer_bytes: usize,
    /// Messages per second a connection may send on average.
    pub msg_rate_per_sec: u32,
    /// Messages a connection may send in one burst.
    pub msg_burst: u32,
    /// Rate-limited messages after which the connection is closed (sustained abuse).
    pub max_rate_violations: u32,
    /// Open connections allowed from one IP address.
    pub max_conns_per_ip: u32,
    /// `join` and `knock` attempts allowed per IP address in each `join_window`.
    pub join_attempts: u32,
    /// Window for `join_attempts`.
    pub join_window: Duration,
    /// How often the server pings a quiet connection.
    pub ping_interval: Duration,
    /// A connection silent (no frame, no pong) this long is closed.
    pub idle_timeout: Duration,
    /// Frames queued for one connection before it counts as a slow consumer and is dropped.
    pub queue_depth: usize,
    /// Longest a single write may take before the connection counts as stuck.
    pub write_timeout: Duration,
    /// How long a dropped peer's room place is kept for `hello.resume`.
    pub resume_grace: Duration,
    /// How long shutdown waits for connections to take their `bye` and close.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: MAX_FRAME_BYTES,
            read_buffer_bytes: 8 * 1024,
            write_buffer_bytes: 4 * 1024,
            max_write_buffer_bytes: 256 * 1024,
            msg_rate_per_sec: 50,
            msg_burst: 100,
            max_rate_violations: 50,
            max_conns_per_ip: 32,
            join_attempts: 10,
            join_window: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            queue_depth: 64,
            write_timeout: Duration::from_secs(10),
            resume_grace: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(3),
        }
    }
}

/// STUN and TURN servers handed to clients in `welcome`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IceConfig {
    /// `stun:` URLs.
    pub stun_urls: Vec<String>,
    /// `turn:`/`turns:` URLs; only sent when `turn_secret` is set.
    pub turn_urls: Vec<String>,
    /// Shared secret of the TURN server's REST API (coturn `static-auth-secret`).
    pub turn_secret: Option<String>,
    /// Lifetime of TURN credentials.
    pub turn_ttl: Duration,
}

impl IceConfig {
    /// No ICE servers at all (LAN calls).
    pub fn none() -> Self {
        Self {
            turn_ttl: Duration::from_secs(86_400),
            ..Self::default()
        }
    }
}

/// Shared mode: several public-mode instances keep rooms in one Redis (see `docs/deploy.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackplaneConfig {
    /// `redis://host:port/db` (or `rediss://` with TLS-enabled builds).
    pub redis_url: String,
    /// Prefix of every key and channel, so several deployments can share one Redis.
    pub key_prefix: String,
    /// How often this instance proves its members alive; a dead instance's members expire
    /// `3 x heartbeat + resume_grace` after its last beat.
    pub heartbeat: Duration,
    /// Longest a single Redis request may take before the client hears `unavailable`.
    pub op_timeout: Duration,
}

impl BackplaneConfig {
    /// Defaults for this Redis URL: prefix `parley:`, 2 s heartbeat, 1 s request timeout.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            key_prefix: "parley:".into(),
            heartbeat: Duration::from_secs(2),
            op_timeout: Duration::from_secs(1),
        }
    }
}

/// Complete configuration of one signaling server.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    /// Public rooms or device doorbell.
    pub mode: Mode,
    /// Browser origins allowed besides no-Origin clients, the server's own origin and the
    /// Tauri app origins; exact match (`https://example.org`).
    pub allowed_origins: Vec<String>,
    /// Limits; `Limits::default()` is production.
    pub limits: Limits,
    /// STUN/TURN servers for `welcome`.
    pub ice: IceConfig,
    /// Serve the built UI from here (`index.html` fallback).
    pub static_dir: Option<PathBuf>,
    /// Public mode only: share rooms with other instances through Redis. `None` (the
    /// default) keeps every room in this process; device servers ignore it.
    pub backplane: Option<BackplaneConfig>,
}

impl ServerConfig {
    /// Public mode with capacity 2 and production limits.
    pub fn public() -> Self {
        Self {
            mode: Mode::Public { capacity: 2 },
            allowed_origins: Vec::new(),
            limits: Limits::default(),
            ice: IceConfig::none(),
            static_dir: None,
            backplane: None,
        }
    }

    /// Device mode for the owner holding `owner_token`, advertising `info`.
    pub fn device(owner_token: impl Into<String>, info: DeviceInfo) -> Self {
        Self {
            mode: Mode::Device {
                owner_token: owner_token.into(),
                info,
            },
            ..Self::public()
        }
    }
}
