//! Running a server: plain or TLS, with a handle for its address and device info.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use parley_protocol::DeviceInfo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::ServerConfig;
use crate::error::SignalError;
use crate::http::routes;
use crate::introduce::IntroductionRequest;
use crate::shared::Shared;

/// A running server's controls.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl ServerHandle {
    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Device mode: changes what `GET /device` reports (e.g. after a rename).
    pub fn set_device_info(&self, info: DeviceInfo) {
        let mut slot = self
            .shared
            .device_info
            .write()
            .unwrap_or_else(|e| e.into_inner());
        *slot = Some(info);
    }

    /// Current device info (device mode), `None` in public mode.
    pub fn device_info(&self) -> Option<DeviceInfo> {
        self.shared
            .device_info
            .read()
            .map_or_else(|e| e.into_inner().clone(), |i| i.clone())
    }

    /// Device mode: from now on `POST /introduce` requests (checked for size, shape and rate)
    /// arrive on the returned channel, each waiting for a verdict; until this is called, and
    /// in public mode, the route answers 404. A later call replaces the receiver.
    pub fn accept_introductions(&self, capacity: usize) -> mpsc::Receiver<IntroductionRequest> {
        self.shared.introductions.receive(capacity)
    }

    /// The `/metrics` text.
    pub fn metrics_text(&self) -> String {
        self.shared.metrics_text()
    }
}

/// The routes of a server with this configuration, for embedding in another axum app.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so per-IP limits see
/// client addresses (without it all clients count as one address). Reservations of dropped
/// peers are released lazily when this router is used alone (no sweeper task runs). Always
/// single-instance: `config.backplane` needs the background tasks of [`spawn`].
pub fn router(config: ServerConfig) -> Router {
    routes(Shared::new(config))
}

/// Serves plain HTTP/WebSocket on `listener` until `shutdown` resolves, then tells every
/// client `bye`, closes them and returns.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SignalError> {
    let (_handle, task) = spawn(listener, config, shutdown)?;
    task.await.map_err(|e| SignalError::Task(e.to_string()))?
}

/// Like [`serve`], but runs in a spawned task and returns a handle at once.
pub fn spawn(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(ServerHandle, JoinHandle<Result<(), SignalError>>), SignalError> {
    let local_addr = listener.local_addr()?;
    let shared = Shared::with_backplane(config)?;
    let app = routes(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let sweeper = tokio::spawn(sweep_forever(shared.clone()));
    let background = crate::backplane::start_tasks(&shared);
    let on_stop = shared.clone();
    let stopped = shared.clone();
    let task = tokio::spawn(async move {
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                on_stop.begin_shutdown();
            })
            .await;
        stopped.drained(stopped.config.limits.shutdown_grace).await;
        sweeper.abort();
        background.iter().for_each(JoinHandle::abort);
        result.map_err(SignalError::Io)
    });
    Ok((ServerHandle { shared, local_addr }, task))
}

/// Like [`spawn`], over TLS with this rustls configuration.
pub fn spawn_tls(
    listener: TcpListener,
    config: ServerConfig,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(ServerHandle, JoinHandle<Result<(), SignalError>>), SignalError> {
    let local_addr = listener.local_addr()?;
    let shared = Shared::with_backplane(config)?;
    let app = routes(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(
        listener.into_std()?,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )?
    .handle(handle.clone());
    let sweeper = tokio::spawn(sweep_forever(shared.clone()));
    let background = crate::backplane::start_tasks(&shared);
    let on_stop = shared.clone();
    let grace = shared.config.limits.shutdown_grace;
    tokio::spawn(async move {
        shutdown.await;
        on_stop.begin_shutdown();
        handle.graceful_shutdown(Some(grace));
    });
    let stopped = shared.clone();
    let task = tokio::spawn(async move {
        let result = server.serve(app).await;
        stopped.drained(grace).await;
        sweeper.abort();
        background.iter().for_each(JoinHandle::abort);
        result.map_err(SignalError::Io)
    });
    Ok((ServerHandle { shared, local_addr }, task))
}

/// Like [`serve`], over TLS.
pub async fn serve_tls(
    listener: TcpListener,
    config: ServerConfig,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SignalError> {
    let (_handle, task) = spawn_tls(listener, config, tls, shutdown)?;
    task.await.map_err(|e| SignalError::Task(e.to_string()))?
}

/// A rustls server configuration (ring crypto) from PEM files: certificate chain and key.
pub fn tls_config_from_pem(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, SignalError> {
    let cert_pem = std::fs::read(cert)?;
    let key_pem = std::fs::read(key)?;
    tls_config_from_pem_bytes(&cert_pem, &key_pem)
}

/// Like [`tls_config_from_pem`], from PEM text in memory.
pub fn tls_config_from_pem_bytes(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, SignalError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let tls = |e: &dyn std::fmt::Display| SignalError::Tls(e.to_string());
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| tls(&e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Releases expired room places and join windows, often enough for short grace periods.
async fn sweep_forever(shared: Arc<Shared>) {
    let limits = &shared.config.limits;
    let period = (limits.resume_grace / 4).clamp(Duration::from_millis(20), Duration::from_secs(1));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        shared.sweep();
    }
}
