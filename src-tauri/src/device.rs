//! The device inside the app: its embedded signaling server (device mode) and LAN discovery.
//!
//! The server starts first, so a peer that discovers us can reach `/healthz` at once. Discovery
//! runs only while the user is discoverable (the discovery crate advertises and browses
//! together); with it off, devices can still be added by address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use parley_discovery::{AddPeerError, Discovery, DiscoveryConfig, Interfaces, Peer};
use parley_protocol::{DeviceInfo, PROTOCOL_VERSION};
use parley_signal::{
    IntroductionRejected, IntroductionRequest, ServerConfig, ServerHandle, SignalError,
};
use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::net::TcpListener;
use tokio::sync::{Mutex, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use ts_rs::TS;

use crate::settings::Settings;

/// Port the device server tries first, so addresses typed by hand stay the same across starts.
pub const DEFAULT_PORT: u16 = 7878;
/// Event carrying each discovery change: `{"event":"added"|"updated"|"removed", "peer":{…}}`.
pub const PEER_EVENT: &str = "peer-event";

/// Where and how the device listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeOptions {
    /// Port tried first; if taken, a free one is used. 0 always picks a free one.
    pub port: u16,
    /// mDNS UDP port (5353 on real networks; tests use a private one).
    pub mdns_port: u16,
    /// Keep mDNS on the loopback interface (tests on one host).
    pub loopback_only: bool,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            mdns_port: 5353,
            loopback_only: false,
        }
    }
}

/// Why the device could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The server socket could not be bound.
    #[error("cannot listen for calls: {0}")]
    Bind(#[from] std::io::Error),
    /// The signaling server failed to start.
    #[error("signaling server: {0}")]
    Server(#[from] SignalError),
    /// mDNS could not start.
    #[error("LAN discovery: {0}")]
    Discovery(#[from] parley_discovery::DiscoveryError),
    /// Adding a device by address failed.
    #[error(transparent)]
    AddPeer(#[from] AddPeerError),
    /// The peer list only exists while discovery runs, i.e. while the user is discoverable.
    #[error("devices can be added only while \"discoverable\" is on")]
    DiscoveryOff,
}

/// What the local UI needs to connect to its own server as the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OwnerSession {
    /// WebSocket URL of this device's server, on loopback.
    pub url: String,
    /// Port the server listens on (other devices use it with this machine's addresses).
    pub port: u16,
    /// Secret that makes a connection this device's owner; new at every launch.
    pub token: String,
}

/// The running device: server, discovery, and the owner token.
pub struct DeviceNode {
    server: ServerHandle,
    stop_server: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    server_task: Mutex<Option<JoinHandle<Result<(), SignalError>>>>,
    /// Shared with the task that answers introductions from newcomers.
    discovery: Arc<Mutex<Option<Arc<Discovery>>>>,
    options: NodeOptions,
    owner_token: String,
}

impl DeviceNode {
    /// Starts the server and, if the settings say so, discovery. Needs a tokio runtime.
    pub async fn start(settings: &Settings, options: NodeOptions) -> Result<Self, NodeError> {
        let info = device_info(settings);
        let owner_token = crate::settings::new_device_id();
        let listener = bind(options.port).await?;
        let (stop_server, stopped) = oneshot::channel::<()>();
        let config = ServerConfig::device(owner_token.clone(), info);
        let (server, task) = parley_signal::spawn(listener, config, async move {
            let _ = stopped.await;
        })?;
        tracing::info!(addr = %server.local_addr(), "device server listening");
        let discovery = Arc::new(Mutex::new(None));
        tokio::spawn(verify_introductions(
            Arc::clone(&discovery),
            server.accept_introductions(16),
        ));
        let node = Self {
            server,
            stop_server: std::sync::Mutex::new(Some(stop_server)),
            server_task: Mutex::new(Some(task)),
            discovery,
            options,
            owner_token,
        };
        Ok(node)
    }

    /// The owner's connection details for the local UI.
    pub fn owner_session(&self) -> OwnerSession {
        let port = self.server.local_addr().port();
        OwnerSession {
            url: format!("ws://127.0.0.1:{port}/ws"),
            port,
            token: self.owner_token.clone(),
        }
    }

    /// Applies settings: name changes reach `/device` and mDNS; discoverability starts or stops
    /// discovery. Peer changes are emitted to `app` as [`PEER_EVENT`].
    pub async fn apply<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        settings: &Settings,
    ) -> Result<(), NodeError> {
        let info = device_info(settings);
        self.server.set_device_info(info.clone());
        let mut slot = self.discovery.lock().await;
        match (slot.as_ref(), settings.discoverable) {
            (Some(discovery), true) => discovery.set_info(info).await?,
            (Some(discovery), false) => {
                discovery.shutdown().await;
                *slot = None;
            }
            (None, true) => {
                let discovery = Arc::new(Discovery::start(self.discovery_config(info))?);
                forward_events(app.clone(), discovery.subscribe());
                *slot = Some(discovery);
            }
            (None, false) => {}
        }
        Ok(())
    }

    /// Devices currently listed (empty while not discoverable).
    pub async fn peers(&self) -> Vec<Peer> {
        let discovery = self.discovery.lock().await.clone();
        match discovery {
            Some(discovery) => discovery.peers().await,
            None => Vec::new(),
        }
    }

    /// Adds a device by `host:port`, for networks where multicast does not get through.
    pub async fn add_peer(&self, target: &str) -> Result<Peer, NodeError> {
        let discovery = self.discovery.lock().await.clone();
        match discovery {
            Some(discovery) => Ok(discovery.add_manual(target).await?),
            None => Err(NodeError::DiscoveryOff),
        }
    }

    /// Says goodbye on mDNS, then stops the server (which tells its clients). Idempotent.
    pub async fn shutdown(&self) {
        if let Some(discovery) = self.discovery.lock().await.take() {
            discovery.shutdown().await;
        }
        let stop = self
            .stop_server
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = self.server_task.lock().await.take() {
            match task.await {
                Ok(Ok(())) => tracing::info!("device server stopped"),
                Ok(Err(error)) => tracing::warn!(%error, "device server stopped with an error"),
                Err(error) => tracing::warn!(%error, "device server task failed"),
            }
        }
    }

    fn discovery_config(&self, info: DeviceInfo) -> DiscoveryConfig {
        let mut config = DiscoveryConfig::new(info, self.server.local_addr().port());
        config.mdns_port = self.options.mdns_port;
        if self.options.loopback_only {
            config.interfaces = Interfaces::LoopbackOnly;
        }
        config
    }
}

/// What this device tells others about itself.
pub fn device_info(settings: &Settings) -> DeviceInfo {
    DeviceInfo {
        id: settings.device_id.clone(),
        name: settings.display_name.clone(),
        version: PROTOCOL_VERSION,
        app: env!("CARGO_PKG_VERSION").to_owned(),
        os: std::env::consts::OS.to_owned(),
    }
}

/// A `peer-event` of the app's own, besides discovery's: the UI fell behind and should re-read
/// `list_peers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum PeerListEvent {
    /// Events were dropped because the UI did not keep up.
    Resync {
        /// How many.
        #[ts(type = "number")]
        missed: u64,
    },
}

fn forward_events<R: Runtime>(
    app: AppHandle<R>,
    mut events: broadcast::Receiver<parley_discovery::PeerEvent>,
) {
    tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Err(error) = app.emit(PEER_EVENT, &event) {
                        tracing::warn!(%error, "could not forward a peer event");
                    }
                }
                // The UI re-reads the list with `list_peers` when told it fell behind.
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    let _ = app.emit(PEER_EVENT, PeerListEvent::Resync { missed });
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}

/// Binds `port` (then any free port) on `::`, or on `0.0.0.0` where IPv6 is off.
async fn bind(port: u16) -> std::io::Result<TcpListener> {
    let mut last_error = None;
    let ports: &[u16] = if port == 0 { &[0] } else { &[port, 0] };
    for &port in ports {
        for ip in [
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ] {
            match TcpListener::bind(SocketAddr::new(ip, port)).await {
                Ok(listener) => return Ok(listener),
                Err(error) => last_error = Some(error),
            }
        }
        tracing::info!(port, "port unavailable; trying a free one");
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no address to bind")))
}

/// Answers newcomers' introductions with whatever discovery is running (none while the user is
/// not discoverable): a verified newcomer is listed at once instead of after mDNS probing.
async fn verify_introductions(
    slot: Arc<Mutex<Option<Arc<Discovery>>>>,
    mut requests: mpsc::Receiver<IntroductionRequest>,
) {
    while let Some(request) = requests.recv().await {
        let discovery = slot.lock().await.clone();
        tokio::spawn(async move {
            let verdict = match discovery {
                Some(discovery) => discovery
                    .accept_introduction(request.from, &request.introduction)
                    .await
                    .map(|_| ())
                    .map_err(|e| IntroductionRejected(e.to_string())),
                None => Err(IntroductionRejected(
                    "this device is not discoverable".into(),
                )),
            };
            let _ = request.reply.send(verdict);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_falls_back_to_a_free_one() {
        let taken = bind(0).await.unwrap();
        let port = taken.local_addr().unwrap().port();
        let fallback = bind(port).await.unwrap();
        let got = fallback.local_addr().unwrap().port();
        assert_ne!(got, port);
        assert_ne!(got, 0);
    }

    #[tokio::test]
    async fn introductions_are_refused_while_not_discoverable() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let options = NodeOptions {
            port: 0,
            mdns_port: 0,
            loopback_only: true,
        };
        // Started, but `apply` never ran: no discovery, as when "discoverable" is off.
        let node = DeviceNode::start(&Settings::default(), options)
            .await
            .unwrap();
        let body = serde_json::json!({ "id": "b".repeat(32), "port": 7878 }).to_string();
        let request = format!(
            "POST /introduce HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let port = node.owner_session().port;
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer.split(' ').nth(1), Some("422"), "{answer}");
        assert!(
            answer.ends_with("this device is not discoverable"),
            "{answer}"
        );
        node.shutdown().await;
    }

    #[tokio::test]
    async fn a_free_port_is_used_as_asked() {
        let probe = bind(0).await.unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let listener = bind(port).await.unwrap();
        assert_eq!(listener.local_addr().unwrap().port(), port);
    }
}
