//! Parley's signaling server library: one server, two policies.
//!
//! - **Public mode** (`parley-server`): clients `create` rooms named by random codes and
//!   `join` them by code; members relay opaque `signal` payloads (SDP, ICE candidates).
//! - **Device mode** (embedded in every app/node): strangers `knock`; the owner, who proves
//!   itself with a secret token, accepts (a private two-party room) or declines.
//!
//! The room logic is [`hub::Hub`], a state machine without I/O: each decoded message yields
//! a list of [`hub::Effect`]s. Each WebSocket gets one small task that feeds the hub and
//! writes a bounded outbox; limits ([`Limits`]) are enforced at the handshake and per
//! connection. The wire format is `parley-protocol`; see `docs/protocol.md`.
//!
//! ```no_run
//! # async fn run() -> Result<(), parley_signal::SignalError> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let config = parley_signal::ServerConfig::public();
//! parley_signal::serve(listener, config, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

mod backplane;
mod config;
mod conn;
mod error;
mod http;
pub mod hub;
mod introduce;
mod limits;
mod metrics;
mod outbox;
mod server;
mod shared;
mod turn;
mod ws;

pub use config::{BackplaneConfig, CAPACITY_RANGE, IceConfig, Limits, Mode, ServerConfig};
pub use error::SignalError;
pub use introduce::{IntroductionRejected, IntroductionRequest, MAX_INTRODUCTION_BYTES};
pub use server::{
    ServerHandle, router, serve, serve_tls, spawn, spawn_tls, tls_config_from_pem,
    tls_config_from_pem_bytes,
};
pub use turn::{ice_servers, turn_credentials};
