//! The UI's signaling connections, opened by the backend: `transport_open` dials a WebSocket
//! (a LAN peer's device server, this device's own, or the internet room server) and relays its
//! text frames and its end over a Tauri channel; `transport_send` and `transport_close` act on
//! it by id.
//!
//! Dialling here rather than in the webview sidesteps mobile webviews' cleartext rules and lets
//! frames from a LAN peer have their `.local` host candidates replaced by the address dialled
//! (see [`crate::local_candidates`]). Each connection is one task with a bounded outbox; a
//! failure is an event for the UI, never a panic.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State, Webview};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use ts_rs::TS;

use crate::commands::CommandError;
use crate::local_candidates;

/// Largest frame either way, as the signaling server allows.
pub const MAX_FRAME_BYTES: usize = parley_protocol::MAX_FRAME_BYTES;
/// Frames the UI may queue on one connection before `transport_send` refuses more.
const OUTBOX_FRAMES: usize = 64;
/// How long dialling (TCP, TLS and the WebSocket handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long quitting waits for connections to send their close frames.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// What a connection reports to the UI, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TransportEvent {
    /// The WebSocket is open; frames may be sent.
    Open,
    /// One text frame from the server (after any `.local` rewrite).
    Text {
        /// The frame, as JSON text.
        text: String,
    },
    /// The connection ended or never opened; the id is no longer valid.
    Closed {
        /// Why, in words for logs.
        reason: String,
    },
}

/// The UI's open connections.
#[derive(Default)]
pub struct Transports {
    next_id: AtomicU32,
    connections: Mutex<HashMap<u32, Connection>>,
}

struct Connection {
    /// Label of the webview that opened it, so a reload closes what the old page left.
    webview: String,
    outbox: mpsc::Sender<String>,
    task: JoinHandle<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The map is only inserted into and removed from, never left half-changed.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Transports {
    /// Dials `url` and reports to `events`, which returns false once nobody listens. `own_port`
    /// is this device's server port (frames from it are not rewritten). Returns the id.
    pub fn open(
        self: &Arc<Self>,
        url: &str,
        webview: &str,
        own_port: Option<u16>,
        events: impl Fn(TransportEvent) -> bool + Send + Sync + 'static,
    ) -> Result<u32, CommandError> {
        let request = check_url(url)?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (outbox, inbox) = mpsc::channel(OUTBOX_FRAMES);
        let this = Arc::clone(self);
        // Hold the map lock across the spawn so the task cannot finish and remove its entry
        // before the entry exists.
        let mut connections = lock(&self.connections);
        let task = tauri::async_runtime::spawn(async move {
            let reason = run(request, own_port, inbox, &events).await;
            tracing::debug!(id, %reason, "transport closed");
            let _ = events(TransportEvent::Closed { reason });
            lock(&this.connections).remove(&id);
        });
        connections.insert(
            id,
            Connection {
                webview: webview.to_owned(),
                outbox,
                task,
            },
        );
        Ok(id)
    }

    /// Queues one text frame on connection `id`.
    pub fn send(&self, id: u32, text: String) -> Result<(), CommandError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(error(
                "frame-too-large",
                format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
            ));
        }
        let outbox = lock(&self.connections)
            .get(&id)
            .map(|c| c.outbox.clone())
            .ok_or_else(|| error("transport-closed", format!("connection {id} is closed")))?;
        outbox.try_send(text).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => error(
                "transport-busy",
                "the connection is not keeping up; frame dropped",
            ),
            mpsc::error::TrySendError::Closed(_) => {
                error("transport-closed", format!("connection {id} is closed"))
            }
        })
    }

    /// Closes connection `id` (a close frame if it is open); unknown ids are already closed.
    pub fn close(&self, id: u32) {
        // Dropping the outbox ends the task, which says goodbye and reports `closed`.
        lock(&self.connections).remove(&id);
    }

    /// Closes every connection `webview` opened (its page is being replaced or closed).
    pub fn close_for_webview(&self, webview: &str) {
        lock(&self.connections).retain(|_, c| c.webview != webview);
    }

    /// Closes everything and waits briefly for the close frames to go out.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = lock(&self.connections)
            .drain()
            .map(|(_, c)| c.task)
            .collect();
        for mut task in tasks {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    /// Number of connections open or opening (tests).
    pub fn len(&self) -> usize {
        lock(&self.connections).len()
    }

    /// Whether no connection is open or opening.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn error(code: &'static str, message: impl Into<String>) -> CommandError {
    CommandError {
        code,
        message: message.into(),
        field: None,
    }
}

/// Only `ws://` and `wss://` URLs with a host.
fn check_url(raw: &str) -> Result<url::Url, CommandError> {
    let invalid = |why: &str| error("invalid-url", format!("{raw:?}: {why}"));
    let url = url::Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(invalid("only ws:// and wss:// URLs can be opened"));
    }
    if url.host().is_none() {
        return Err(invalid("no host"));
    }
    Ok(url)
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Dials, then relays until either side ends; returns why it ended.
async fn run(
    url: url::Url,
    own_port: Option<u16>,
    mut outbox: mpsc::Receiver<String>,
    events: &(impl Fn(TransportEvent) -> bool + Send + Sync),
) -> String {
    let dial = tokio::time::timeout(CONNECT_TIMEOUT, dial(url.as_str()));
    let socket = tokio::select! {
        dialled = dial => match dialled {
            Ok(Ok(socket)) => socket,
            Ok(Err(error)) => return format!("cannot connect: {error}"),
            Err(_) => return "cannot connect: timed out".to_owned(),
        },
        () = closed_by_ui(&mut outbox) => return "closed".to_owned(),
    };
    let rewrite_to = peer_addr(&socket).and_then(|a| local_candidates::rewrite_target(a, own_port));
    let rewriter = local_candidates::Rewriter::new(rewrite_to);
    if !events(TransportEvent::Open) {
        return "nobody listens".to_owned();
    }
    relay(socket, outbox, rewriter, events).await
}

/// Resolves once the UI dropped the connection; frames queued before open are discarded (the
/// UI sends only after `open`).
async fn closed_by_ui(outbox: &mut mpsc::Receiver<String>) {
    while outbox.recv().await.is_some() {}
}

async fn dial(url: &str) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    let (socket, _response) =
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), false, Some(tls()))
            .await?;
    Ok(socket)
}

/// Public roots, with the ring provider the rest of the workspace uses (no process default).
fn tls() -> Connector {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    match rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
    {
        Ok(builder) => Connector::Rustls(Arc::new(
            builder.with_root_certificates(roots).with_no_client_auth(),
        )),
        // Unreachable with ring's own defaults; plain ws:// still works without TLS.
        Err(_) => Connector::Plain,
    }
}

fn peer_addr(socket: &Socket) -> Option<SocketAddr> {
    socket.get_ref().get_ref().peer_addr().ok()
}

async fn relay(
    socket: Socket,
    mut outbox: mpsc::Receiver<String>,
    mut rewriter: local_candidates::Rewriter,
    events: &(impl Fn(TransportEvent) -> bool + Send + Sync),
) -> String {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            queued = outbox.recv() => match queued {
                Some(text) => {
                    if let Err(error) = sink.send(Message::text(text)).await {
                        return format!("send failed: {error}");
                    }
                }
                None => {
                    let _ = sink.send(Message::Close(None)).await;
                    let _ = sink.close().await;
                    return "closed".to_owned();
                }
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    let text = rewriter.frame(text).unwrap_or_else(|| text.to_owned());
                    if !events(TransportEvent::Text { text }) {
                        return "nobody listens".to_owned();
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(f) if !f.reason.is_empty() => format!("closed by the server: {}", f.reason.as_str()),
                        _ => "closed by the server".to_owned(),
                    };
                }
                // Pings are answered by tungstenite; binary frames are not part of the protocol.
                Some(Ok(_)) => {}
                Some(Err(error)) => return format!("connection lost: {error}"),
                None => return "connection lost".to_owned(),
            },
        }
    }
}

/// This device's own server port, if the node runs.
fn own_port<R: Runtime>(app: &AppHandle<R>) -> Option<u16> {
    app.try_state::<crate::device_commands::NodeState>()
        .and_then(|s| s.node())
        .map(|node| node.owner_session().port)
}

/// Opens a connection to `url`; its events arrive on `channel`. Returns the connection id.
#[tauri::command]
pub fn transport_open<R: Runtime>(
    app: AppHandle<R>,
    webview: Webview<R>,
    state: State<'_, Arc<Transports>>,
    url: String,
    channel: Channel<TransportEvent>,
) -> Result<u32, CommandError> {
    state.open(&url, webview.label(), own_port(&app), move |event| {
        channel.send(event).is_ok()
    })
}

/// Sends one text frame on connection `id`.
#[tauri::command]
pub fn transport_send(
    state: State<'_, Arc<Transports>>,
    id: u32,
    text: String,
) -> Result<(), CommandError> {
    state.send(id, text)
}

/// Closes connection `id`.
#[tauri::command]
pub fn transport_close(state: State<'_, Arc<Transports>>, id: u32) {
    state.close(id);
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
