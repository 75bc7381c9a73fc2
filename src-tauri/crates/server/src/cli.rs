//! Command-line options and their translation into a `ServerConfig`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use parley_signal::{BackplaneConfig, IceConfig, Limits, Mode, ServerConfig};

/// Log line format.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Parley's public signaling server: rooms by code for calls over the internet.
#[derive(Debug, Parser)]
#[command(name = "parley-server", version, about)]
pub(crate) struct Cli {
    /// Address and port to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub(crate) bind: SocketAddr,
    /// Serve the built UI (e.g. ui/dist) from this directory.
    #[arg(long)]
    pub(crate) static_dir: Option<PathBuf>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Extra browser origin allowed to open WebSockets (repeatable), e.g. https://example.org.
    #[arg(long = "allow-origin")]
    pub(crate) allow_origins: Vec<String>,
    /// Members per room.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=8))]
    pub(crate) capacity: u8,
    /// STUN server URL for clients (repeatable), e.g. stun:stun.example.org:3478.
    #[arg(long = "stun")]
    pub(crate) stun: Vec<String>,
    /// TURN server URL for clients (repeatable); needs --turn-secret.
    #[arg(long = "turn")]
    pub(crate) turn: Vec<String>,
    /// Shared secret of the TURN server's REST API (coturn static-auth-secret).
    #[arg(long, env = "PARLEY_TURN_SECRET", hide_env_values = true)]
    pub(crate) turn_secret: Option<String>,
    /// Lifetime of TURN credentials, in seconds.
    #[arg(long, default_value_t = 86_400)]
    pub(crate) turn_ttl: u64,
    /// Open connections allowed per IP address.
    #[arg(long)]
    pub(crate) max_conns_per_ip: Option<u32>,
    /// Messages per second per connection (average).
    #[arg(long)]
    pub(crate) msg_rate: Option<u32>,
    /// Messages per connection in one burst.
    #[arg(long)]
    pub(crate) msg_burst: Option<u32>,
    /// Join attempts per IP address per join window.
    #[arg(long)]
    pub(crate) join_attempts: Option<u32>,
    /// Join window, in seconds.
    #[arg(long)]
    pub(crate) join_window: Option<u64>,
    /// Seconds of silence (no frame, no pong) before a connection is closed.
    #[arg(long)]
    pub(crate) idle_timeout: Option<u64>,
    /// Seconds between server pings.
    #[arg(long)]
    pub(crate) ping_interval: Option<u64>,
    /// Frames queued per connection before a slow reader is dropped.
    #[arg(long)]
    pub(crate) queue_depth: Option<usize>,
    /// Seconds a dropped peer's room place is kept for a resume.
    #[arg(long)]
    pub(crate) resume_grace: Option<u64>,
    /// Share rooms with other instances through this Redis (redis://host:port/db); without
    /// it every room lives in this process.
    #[arg(long, env = "PARLEY_REDIS_URL")]
    pub(crate) redis_url: Option<String>,
    /// Prefix of the backplane's Redis keys and channels.
    #[arg(long, default_value = "parley:", requires = "redis_url")]
    pub(crate) redis_prefix: String,
    /// Milliseconds between backplane heartbeats (a dead instance's members expire
    /// 3 heartbeats plus the resume grace after its last one).
    #[arg(long, default_value_t = 2000, requires = "redis_url")]
    pub(crate) redis_heartbeat_ms: u64,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

impl Cli {
    /// The server configuration these options describe.
    pub(crate) fn config(&self) -> ServerConfig {
        let mut limits = Limits::default();
        let secs = Duration::from_secs;
        set(&mut limits.max_conns_per_ip, self.max_conns_per_ip);
        set(&mut limits.msg_rate_per_sec, self.msg_rate);
        set(&mut limits.msg_burst, self.msg_burst);
        set(&mut limits.join_attempts, self.join_attempts);
        set(&mut limits.join_window, self.join_window.map(secs));
        set(&mut limits.idle_timeout, self.idle_timeout.map(secs));
        set(&mut limits.ping_interval, self.ping_interval.map(secs));
        set(&mut limits.queue_depth, self.queue_depth);
        set(&mut limits.resume_grace, self.resume_grace.map(secs));
        ServerConfig {
            mode: Mode::Public {
                capacity: self.capacity,
            },
            allowed_origins: self.allow_origins.clone(),
            limits,
            ice: IceConfig {
                stun_urls: self.stun.clone(),
                turn_urls: self.turn.clone(),
                turn_secret: self.turn_secret.clone(),
                turn_ttl: secs(self.turn_ttl),
            },
            static_dir: self.static_dir.clone(),
            backplane: self.redis_url.as_ref().map(|url| BackplaneConfig {
                key_prefix: self.redis_prefix.clone(),
                heartbeat: Duration::from_millis(self.redis_heartbeat_ms.max(50)),
                ..BackplaneConfig::new(url.clone())
            }),
        }
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}
