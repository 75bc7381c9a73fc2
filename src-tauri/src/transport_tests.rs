//! The transport bridge on Tauri's mock runtime (real config and capabilities), dialling a real
//! parley-signal device server on 127.0.0.1:0; the test plays that device's owner with a plain
//! WebSocket client.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use parley_protocol::DeviceInfo;
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{Channel, InvokeResponseBody};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

use super::{MAX_FRAME_BYTES, Transports, transport_open};
use crate::app_tests::{TestApp, start as start_app};

const WAIT: Duration = Duration::from_secs(10);

/// The app with its settings in a temporary directory, kept while the app runs.
fn start() -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let app = start_app(&dir.path().join("settings.json"));
    (app, dir)
}

impl TestApp {
    /// Opens a connection through the command, with a channel whose messages the test reads
    /// as the UI would receive them (JSON).
    fn open(&self, url: &str) -> (u32, Events) {
        let (tx, rx) = mpsc::channel();
        let channel = Channel::new(move |body| {
            if let InvokeResponseBody::Json(json) = body {
                let _ = tx.send(serde_json::from_str::<Value>(&json).unwrap());
            }
            Ok(())
        });
        let id = transport_open(
            self.app.handle().clone(),
            self.window.as_ref().clone(),
            self.app.state(),
            url.to_owned(),
            channel,
        )
        .unwrap();
        (id, Events(rx))
    }

    /// Sends `frame` on connection `id` through the `transport_send` command.
    fn send_frame(&self, id: u32, frame: &Value) {
        self.invoke(
            "transport_send",
            json!({ "id": id, "text": frame.to_string() }),
        )
        .unwrap();
    }

    fn transports(&self) -> Arc<Transports> {
        self.app.state::<Arc<Transports>>().inner().clone()
    }
}

struct Events(mpsc::Receiver<Value>);

impl Events {
    /// The next event of `kind`, skipping others; for `text`, the next frame of `frame_type`.
    fn next(&self, kind: &str, frame_type: Option<&str>) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self
                .0
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {kind} {frame_type:?} event"));
            if event["kind"] != json!(kind) {
                assert_ne!(event["kind"], json!("closed"), "closed early: {event}");
                continue;
            }
            let Some(frame_type) = frame_type else {
                return event;
            };
            let frame: Value = serde_json::from_str(event["text"].as_str().unwrap()).unwrap();
            if frame["type"] == json!(frame_type) {
                return frame;
            }
        }
    }
}

/// A device-mode signaling server on loopback; dropping the sender stops it.
fn device_server() -> (u16, oneshot::Sender<()>) {
    let info = DeviceInfo {
        id: "d".repeat(32),
        name: "Study desktop".into(),
        version: parley_protocol::PROTOCOL_VERSION,
        app: "test".into(),
        os: "linux".into(),
    };
    server(parley_signal::ServerConfig::device("owner-secret", info))
}

fn server(config: parley_signal::ServerConfig) -> (u16, oneshot::Sender<()>) {
    tauri::async_runtime::block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (server, _task) = parley_signal::spawn(listener, config, async move {
            let _ = stopped.await;
        })
        .unwrap();
        (server.local_addr().port(), stop)
    })
}

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The remote device's owner, as its own UI would connect.
async fn owner(port: u16) -> Client {
    let mut ws = client(
        port,
        json!({"type": "hello", "version": 1, "token": "owner-secret"}),
    )
    .await;
    let welcome = until(&mut ws, "welcome").await;
    assert_eq!(welcome["owner"], json!(true));
    ws
}

async fn client(port: u16, hello: Value) -> Client {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .unwrap();
    ws.send(Message::text(hello.to_string())).await.unwrap();
    ws
}

async fn until(ws: &mut Client, frame_type: &str) -> Value {
    let read = async {
        loop {
            if let Some(Ok(Message::Text(text))) = ws.next().await {
                let frame: Value = serde_json::from_str(text.as_str()).unwrap();
                if frame["type"] == json!(frame_type) {
                    return frame;
                }
            }
        }
    };
    tokio::time::timeout(WAIT, read).await.unwrap()
}

const CHROMIUM_HOST: &str = "candidate:2384453283 1 udp 2122260223 3f1c6a47-9c2e-4b8a-a1d0-5f0e7c2b9d11.local 54321 typ host generation 0 ufrag Wq3x network-id 1";

#[test]
fn a_call_to_a_lan_device_goes_through_the_bridge_with_local_candidates_rewritten() {
    let (app, _dir) = start();
    let (port, _stop) = device_server();
    let mut owner_ws = tauri::async_runtime::block_on(owner(port));

    let (id, events) = app.open(&format!("ws://127.0.0.1:{port}/ws"));
    events.next("open", None);
    let send = |frame: Value| app.send_frame(id, &frame);
    send(json!({"type": "hello", "version": 1}));
    let welcome = events.next("text", Some("welcome"));
    assert_eq!(welcome["owner"], json!(false));
    let me = welcome["peerId"].as_str().unwrap().to_owned();

    send(json!({"type": "knock", "name": "Kitchen", "device": "k".repeat(32), "media": "audio"}));
    let incoming = tauri::async_runtime::block_on(until(&mut owner_ws, "incoming"));
    assert_eq!(incoming["name"], json!("Kitchen"));
    events.next("text", Some("ringing"));

    let candidate =
        json!({"candidate": {"candidate": CHROMIUM_HOST, "sdpMid": "0", "sdpMLineIndex": 0}});
    tauri::async_runtime::block_on(async {
        let accept = json!({"type": "accept", "knock": incoming["knock"]});
        owner_ws
            .send(Message::text(accept.to_string()))
            .await
            .unwrap();
        until(&mut owner_ws, "joined").await;
        let signal = json!({"type": "signal", "to": me, "data": candidate});
        owner_ws
            .send(Message::text(signal.to_string()))
            .await
            .unwrap();
    });
    let signal = events.next("text", Some("signal"));
    assert_eq!(
        signal["data"]["candidate"]["candidate"],
        json!(CHROMIUM_HOST.replace("3f1c6a47-9c2e-4b8a-a1d0-5f0e7c2b9d11.local", "127.0.0.1")),
        "the peer's hidden host address is the one the backend dialled"
    );
    assert_eq!(signal["data"]["candidate"]["sdpMid"], json!("0"));

    // Our own signal reaches the device unchanged.
    send(
        json!({"type": "signal", "to": signal["from"], "data": {"candidate": {"candidate": CHROMIUM_HOST}}}),
    );
    let relayed = tauri::async_runtime::block_on(until(&mut owner_ws, "signal"));
    assert_eq!(
        relayed["data"]["candidate"]["candidate"],
        json!(CHROMIUM_HOST)
    );

    app.invoke("transport_close", json!({ "id": id })).unwrap();
    assert_eq!(events.next("closed", None)["reason"], json!("closed"));
    let left = tauri::async_runtime::block_on(until(&mut owner_ws, "peer-left"));
    // Without a `leave` first the server counts it as a drop (the peer may resume).
    assert_eq!(left["peer"], json!(me), "the device saw the caller go");
    assert!(app.transports().is_empty());
    let error = app
        .invoke("transport_send", json!({ "id": id, "text": "{}" }))
        .unwrap_err();
    assert_eq!(error["code"], json!("transport-closed"));
}

#[test]
fn an_unreachable_server_and_a_server_going_away_are_reported_as_closed() {
    let (app, _dir) = start();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, events) = app.open(&format!("ws://127.0.0.1:{free_port}/ws"));
    let closed = events.next("closed", None);
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .starts_with("cannot connect"),
        "{closed}"
    );

    let (port, stop) = device_server();
    let (_, events) = app.open(&format!("ws://127.0.0.1:{port}/ws"));
    events.next("open", None);
    drop(stop);
    let closed = events.next("closed", None);
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .contains("closed by the server")
            || closed["reason"]
                .as_str()
                .unwrap()
                .contains("connection lost"),
        "{closed}"
    );
}

#[test]
fn only_websocket_urls_and_bounded_frames_are_accepted_through_the_ipc() {
    let (app, _dir) = start();
    for url in [
        "http://127.0.0.1:1/ws",
        "file:///etc/passwd",
        "not a url",
        "ws://",
    ] {
        let error = app
            .invoke(
                "transport_open",
                json!({ "url": url, "channel": "__CHANNEL__:7" }),
            )
            .unwrap_err();
        assert_eq!(error["code"], json!("invalid-url"), "{url}: {error}");
    }
    let (port, _stop) = device_server();
    let (id, events) = app.open(&format!("ws://127.0.0.1:{port}/ws"));
    events.next("open", None);
    let error = app
        .invoke(
            "transport_send",
            json!({ "id": id, "text": "x".repeat(MAX_FRAME_BYTES + 1) }),
        )
        .unwrap_err();
    assert_eq!(error["code"], json!("frame-too-large"));
}

#[test]
fn a_reloaded_page_and_quitting_close_every_connection() {
    let (app, _dir) = start();
    let (port, _stop) = device_server();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let (_, first) = app.open(&url);
    let (_, second) = app.open(&url);
    first.next("open", None);
    second.next("open", None);

    app.transports().close_for_webview("main");
    first.next("closed", None);
    second.next("closed", None);

    let (_, third) = app.open(&url);
    third.next("open", None);
    tauri::async_runtime::block_on(app.transports().shutdown());
    third.next("closed", None);
    assert!(app.transports().is_empty());
}

#[test]
fn a_room_server_on_the_lan_relays_other_people_s_candidates_untouched() {
    let (app, _dir) = start();
    let (port, _stop) = server(parley_signal::ServerConfig::public());
    let (id, events) = app.open(&format!("ws://127.0.0.1:{port}/ws"));
    events.next("open", None);
    let send = |frame: Value| app.send_frame(id, &frame);
    send(json!({"type": "hello", "version": 1}));
    let me = events.next("text", Some("welcome"))["peerId"].clone();
    send(json!({"type": "create"}));
    let code = events.next("text", Some("created"))["code"].clone();

    let candidate = json!({"candidate": {"candidate": CHROMIUM_HOST}});
    tauri::async_runtime::block_on(async {
        let mut other = client(port, json!({"type": "hello", "version": 1})).await;
        until(&mut other, "welcome").await;
        other
            .send(Message::text(
                json!({"type": "join", "code": code}).to_string(),
            ))
            .await
            .unwrap();
        until(&mut other, "joined").await;
        let signal = json!({"type": "signal", "to": me, "data": candidate});
        other.send(Message::text(signal.to_string())).await.unwrap();
    });
    let signal = events.next("text", Some("signal"));
    assert_eq!(
        signal["data"], candidate,
        "not the server's address to give"
    );
}

/// A WebSocket server on loopback that sends `frames` to whoever connects, then waits for
/// them to go.
fn scripted_server(frames: Vec<Message>) -> u16 {
    tauri::async_runtime::block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tauri::async_runtime::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            for frame in frames {
                if ws.send(frame).await.is_err() {
                    return;
                }
            }
            while let Some(Ok(_)) = ws.next().await {}
        });
        port
    })
}

#[test]
fn a_hostile_server_s_binary_frames_are_ignored_and_an_oversized_frame_ends_the_connection() {
    let (app, _dir) = start();
    let port = scripted_server(vec![
        Message::binary(vec![0xff; 16]),
        Message::text(r#"{"type":"pong"}"#),
        Message::text("x".repeat(MAX_FRAME_BYTES + 1)),
        Message::text(r#"{"type":"after"}"#),
    ]);
    let (_, events) = app.open(&format!("ws://127.0.0.1:{port}/ws"));
    let next = || events.0.recv_timeout(WAIT).unwrap();
    assert_eq!(next(), json!({"kind": "open"}));
    assert_eq!(
        next(),
        json!({"kind": "text", "text": r#"{"type":"pong"}"#})
    );
    let closed = next();
    assert_eq!(closed["kind"], json!("closed"), "{closed}");
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .starts_with("connection lost"),
        "{closed}"
    );
}
