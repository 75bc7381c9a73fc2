//! Shared helpers for the integration tests: a server on port 0 and a WebSocket client.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use parley_protocol::{PeerId, ServerMessage, decode_server};
use parley_signal::{ServerConfig, ServerHandle};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Longest a test waits for anything the server should do promptly.
pub const WAIT: Duration = Duration::from_secs(5);

/// A server running on 127.0.0.1:0 for one test.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<JoinHandle<Result<(), parley_signal::SignalError>>>,
}

impl TestServer {
    pub async fn start(config: ServerConfig) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (handle, task) = parley_signal::spawn(listener, config, async {
            let _ = stopped.await;
        })
        .unwrap();
        Self {
            addr: handle.local_addr(),
            handle,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Triggers shutdown and waits for the server task to end.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT * 2, task)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
        }
    }

    pub async fn client(&self) -> Client {
        Client::connect(&self.url(), None).await.unwrap()
    }

    /// A client that has said hello; returns it with its peer id.
    pub async fn hello(&self) -> (Client, PeerId) {
        let mut client = self.client().await;
        let peer = client.hello().await;
        (client, peer)
    }

    pub async fn http_get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path, &[]).await
    }
}

/// A minimal HTTP/1.1 GET over a raw socket: status and body.
pub async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let (status, text) = response(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, format!("{head}\r\n\r\n{body}"))
}

/// A raw HTTP response's status (0 without a status line) and its text.
pub fn response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Body part of what [`http_get`] returned.
pub fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol client over a real WebSocket.
pub struct Client {
    pub ws: Ws,
}

impl Client {
    pub async fn connect(url: &str, origin: Option<&str>) -> Result<Self, WsError> {
        let mut req = url.into_client_request()?;
        if let Some(origin) = origin {
            req.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(Self { ws })
    }

    pub async fn send(&mut self, msg: Value) {
        self.ws.send(Message::text(msg.to_string())).await.unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    /// The next protocol message (pings are answered by tungstenite and skipped).
    pub async fn recv(&mut self) -> ServerMessage {
        loop {
            let frame = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no message from server in time")
                .expect("connection ended")
                .expect("read error");
            match frame {
                Message::Text(text) => return decode_server(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// Reads until the server closes; returns its close frame (None if it just hung up).
    /// Protocol messages received on the way are returned too.
    pub async fn closed(&mut self) -> (Option<CloseFrame>, Vec<ServerMessage>) {
        let mut seen = Vec::new();
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("not closed in time");
            match next {
                None | Some(Err(_)) => return (None, seen),
                Some(Ok(Message::Close(frame))) => return (frame, seen),
                Some(Ok(Message::Text(text))) => seen.push(decode_server(&text).unwrap()),
                Some(Ok(_)) => {}
            }
        }
    }

    pub async fn hello(&mut self) -> PeerId {
        self.send(json!({"type": "hello", "version": 1})).await;
        match self.recv().await {
            ServerMessage::Welcome { peer_id, .. } => peer_id,
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Expects an `error` with this code (kebab-case name).
    pub async fn expect_error(&mut self, code: &str) {
        match self.recv().await {
            ServerMessage::Error { code: got, .. } => {
                assert_eq!(serde_json::to_value(got).unwrap(), json!(code))
            }
            other => panic!("expected error {code}, got {other:?}"),
        }
    }

    /// Sends `ping` and waits for `pong`: everything sent before has been processed.
    pub async fn sync(&mut self) {
        self.send(json!({"type": "ping"})).await;
        assert_eq!(self.recv().await, ServerMessage::Pong {});
    }
}

/// Creates a room with `owner`; returns its code as shown (`XXXX-XXXX`).
pub async fn create_room(owner: &mut Client) -> String {
    owner.send(json!({"type": "create"})).await;
    match owner.recv().await {
        ServerMessage::Created { code, .. } => code.to_string(),
        other => panic!("expected created, got {other:?}"),
    }
}

impl Client {
    /// Like [`Client::recv`], for use under an outer timeout (no inner deadline).
    pub async fn recv_raw(&mut self) -> ServerMessage {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return decode_server(&text).unwrap(),
                Some(Ok(_)) => continue,
                other => panic!("connection ended: {other:?}"),
            }
        }
    }
}
