//! The app's commands through Tauri's IPC, on the mock runtime with the real config and
//! capabilities, so a command missing from the ACL fails here too.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Listener, Manager, WebviewWindow};

use crate::commands::{MEDIA_ENGINE_CHANGED, SETTINGS_CHANGED};
use crate::{Options, build};

/// The app on the mock runtime and its main window (transport_tests.rs drives it too).
pub(crate) struct TestApp {
    pub(crate) app: App<MockRuntime>,
    pub(crate) window: WebviewWindow<MockRuntime>,
}

pub(crate) fn start(settings_file: &Path) -> TestApp {
    let options = Options {
        settings_file: settings_file.to_owned(),
        mock_media: false,
        node: None,
    };
    let mut app = build(mock_builder(), options)
        .build(tauri::generate_context!())
        .expect("app builds on the mock runtime");
    // Tauri runs setup (windows from the config, then ours) on the first event-loop turn; the
    // mock runtime's turn does nothing else. `run_return` would block until exit.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app
        .get_webview_window("main")
        .expect("the config creates the main window");
    TestApp { app, window }
}

impl TestApp {
    /// Calls `cmd` through the IPC as the UI would: its JSON answer, or its JSON error.
    pub(crate) fn invoke(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    pub(crate) fn settings(&self) -> Value {
        self.invoke("get_settings", json!({})).unwrap()
    }
}

#[test]
fn first_start_creates_settings_with_a_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let app = start(&file);

    let settings = app.settings();
    let id = settings["deviceId"].as_str().unwrap();
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(settings["autoAnswer"], json!(false));
    assert_eq!(
        settings["displayName"],
        json!(crate::settings::default_display_name())
    );

    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        on_disk["deviceId"],
        json!(id),
        "the id is persisted at once"
    );
}

#[test]
fn saved_settings_survive_a_restart_and_keep_the_device_id() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let first = start(&file);
    let before = first.settings();

    let (tx, rx) = mpsc::channel();
    first.app.listen(SETTINGS_CHANGED, move |event| {
        let _ = tx.send(event.payload().to_owned());
    });

    let mut changed = before.clone();
    changed["displayName"] = json!("Kitchen laptop");
    changed["discoverable"] = json!(false);
    changed["deviceId"] = json!("0b6f7c523f0e4a539d1e2f4f3a0c9b11");
    let saved = first
        .invoke("save_settings", json!({ "settings": changed }))
        .unwrap();
    assert_eq!(saved["displayName"], json!("Kitchen laptop"));
    assert_eq!(
        saved["deviceId"], before["deviceId"],
        "the UI cannot change the id"
    );

    let announced: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(announced, saved);
    drop(first);

    let second = start(&file);
    assert_eq!(second.settings(), saved);
}

#[test]
fn invalid_settings_are_refused_with_the_field_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let app = start(&file);
    let before = app.settings();

    let mut bad = before.clone();
    bad["displayName"] = json!("   ");
    let error = app
        .invoke("save_settings", json!({ "settings": bad }))
        .unwrap_err();
    assert_eq!(error["code"], json!("invalid-setting"));
    assert_eq!(error["field"], json!("displayName"));

    let mut bad_url = before.clone();
    bad_url["serverUrl"] = json!("ftp://rooms.example.org");
    let error = app
        .invoke("save_settings", json!({ "settings": bad_url }))
        .unwrap_err();
    assert_eq!(error["field"], json!("serverUrl"));

    assert_eq!(app.settings(), before, "nothing changed");
}

#[test]
fn a_corrupt_file_is_set_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    std::fs::write(&file, b"{\"displayName\": \"half-writ").unwrap();

    let app = start(&file);
    let info = app.invoke("device_info", json!({})).unwrap();
    let warnings = info["settingsWarnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("damaged"));
    assert_eq!(
        std::fs::read(dir.path().join("settings.json.corrupt")).unwrap(),
        b"{\"displayName\": \"half-writ"
    );
    assert!(app.settings()["deviceId"].is_string());
}

#[test]
fn a_field_of_the_wrong_type_is_reset_and_the_rest_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let stored = json!({
        "deviceId": "0b6f7c523f0e4a539d1e2f4f3a0c9b11",
        "displayName": "Study",
        "autoAnswer": "sometimes"
    });
    std::fs::write(&file, stored.to_string()).unwrap();

    let app = start(&file);
    let settings = app.settings();
    assert_eq!(settings["deviceId"], stored["deviceId"]);
    assert_eq!(settings["displayName"], json!("Study"));
    assert_eq!(settings["autoAnswer"], json!(false));
    let info = app.invoke("device_info", json!({})).unwrap();
    assert!(
        info["settingsWarnings"][0]
            .as_str()
            .unwrap()
            .contains("autoAnswer")
    );

    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        on_disk["autoAnswer"],
        json!(false),
        "the repair is written back"
    );
}

#[test]
fn the_page_report_chooses_the_media_engine() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir.path().join("settings.json"));
    let info = app.invoke("device_info", json!({})).unwrap();
    assert_eq!(info["mediaEngine"], json!("unknown"));
    assert_eq!(
        info["protocolVersion"],
        json!(parley_protocol::PROTOCOL_VERSION)
    );

    let (tx, rx) = mpsc::channel();
    app.app.listen(MEDIA_ENGINE_CHANGED, move |event| {
        let _ = tx.send(event.payload().to_owned());
    });
    let features = json!({ "rtcPeerConnection": false, "getUserMedia": true });
    app.invoke("report_webview_features", json!({ "features": features }))
        .unwrap();

    let announced: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).unwrap()).unwrap();
    assert_eq!(announced["mediaEngine"], json!("native-unavailable"));
    let info = app.invoke("device_info", json!({})).unwrap();
    assert_eq!(info["webview"], features);
    assert_eq!(info["mediaEngine"], json!("native-unavailable"));
}

#[test]
fn unknown_commands_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir.path().join("settings.json"));
    assert!(app.invoke("no_such_command", json!({})).is_err());
}

#[test]
fn only_the_main_window_may_call_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir.path().join("settings.json"));
    let other = tauri::WebviewWindowBuilder::new(&app.app, "other", Default::default())
        .build()
        .unwrap();
    let stranger = TestApp {
        window: other,
        ..app
    };
    let error = stranger.invoke("get_settings", json!({})).unwrap_err();
    assert!(error.to_string().contains("not allowed"), "{error}");
}

/// A GET on loopback with plain std sockets; returns the response body.
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}

pub(crate) fn private_mdns_port() -> u16 {
    // A private mDNS port on loopback keeps a test off the real LAN and other tests.
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .unwrap()
        .port()
}

pub(crate) fn start_with_node(settings_file: &Path, mdns_port: u16) -> TestApp {
    let options = Options {
        settings_file: settings_file.to_owned(),
        mock_media: false,
        node: Some(crate::device::NodeOptions {
            port: 0,
            mdns_port,
            loopback_only: true,
        }),
    };
    let mut app = build(mock_builder(), options)
        .build(tauri::generate_context!())
        .unwrap();
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").unwrap();
    TestApp { app, window }
}

#[test]
fn the_device_server_serves_this_device_and_follows_a_rename() {
    let dir = tempfile::tempdir().unwrap();
    let app = start_with_node(&dir.path().join("settings.json"), private_mdns_port());
    let session = app.invoke("owner_session", json!({})).unwrap();
    let port = u16::try_from(session["port"].as_u64().unwrap()).unwrap();
    assert_eq!(session["url"], json!(format!("ws://127.0.0.1:{port}/ws")));
    assert_eq!(session["token"].as_str().unwrap().len(), 32);

    assert_eq!(http_get(port, "/healthz").unwrap(), "ok");
    let device: Value = serde_json::from_str(&http_get(port, "/device").unwrap()).unwrap();
    let settings = app.settings();
    assert_eq!(device["id"], settings["deviceId"]);
    assert_eq!(device["name"], settings["displayName"]);

    let mut renamed = settings.clone();
    renamed["displayName"] = json!("Salle de séjour");
    app.invoke("save_settings", json!({ "settings": renamed }))
        .unwrap();
    // The rename is applied by a task; wait for it to show, with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let device: Value = serde_json::from_str(&http_get(port, "/device").unwrap()).unwrap();
        if device["name"] == json!("Salle de séjour") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rename never reached /device"
        );
        std::thread::yield_now();
    }
    assert!(app.invoke("list_peers", json!({})).unwrap().is_array());

    crate::device_commands::stop_node(app.app.handle());
    assert!(
        http_get(port, "/healthz")
            .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused),
        "the server is gone after shutdown"
    );
}

#[test]
fn without_a_node_the_node_commands_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir.path().join("settings.json"));
    // No NodeState at all: Tauri refuses the command instead of crashing.
    assert!(app.invoke("owner_session", json!({})).is_err());
}

#[test]
fn a_device_on_the_lan_appears_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let mdns_port = private_mdns_port();
    let app = start_with_node(&dir.path().join("settings.json"), mdns_port);
    let (tx, rx) = mpsc::channel();
    app.app.listen(crate::device::PEER_EVENT, move |event| {
        let _ = tx.send(event.payload().to_owned());
    });

    // Another device on the same (loopback) LAN, as a second app would run it.
    let other_settings = crate::settings::Settings {
        display_name: "Другой ноутбук".into(),
        ..Default::default()
    };
    let other_options = crate::device::NodeOptions {
        port: 0,
        mdns_port,
        loopback_only: true,
    };
    let other = tauri::async_runtime::block_on(async {
        let node = crate::device::DeviceNode::start(&other_settings, other_options)
            .await
            .unwrap();
        node.apply(app.app.handle(), &other_settings).await.unwrap();
        node
    });

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let added = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let event: Value = serde_json::from_str(&rx.recv_timeout(left).unwrap()).unwrap();
        if event["event"] == json!("added")
            && event["peer"]["id"] == json!(other_settings.device_id)
        {
            break event;
        }
    };
    assert_eq!(added["peer"]["name"], json!("Другой ноутбук"));
    let peers = app.invoke("list_peers", json!({})).unwrap();
    assert!(
        peers
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == json!(other_settings.device_id)),
        "{peers}"
    );
    let own_id = app.settings()["deviceId"].clone();
    assert!(
        !peers.as_array().unwrap().iter().any(|p| p["id"] == own_id),
        "this device does not list itself"
    );
    tauri::async_runtime::block_on(other.shutdown());
    crate::device_commands::stop_node(app.app.handle());
}

#[test]
fn request_attention_answers_for_the_main_window() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(&dir.path().join("settings.json"));
    // The mock window is never focused, so it counts as in the background.
    assert_eq!(
        app.invoke("request_attention", json!({})).unwrap(),
        json!(true)
    );
}

#[test]
fn an_unusable_settings_location_still_starts_on_defaults() {
    let dir = tempfile::tempdir().unwrap();
    // A directory where the file should be: it can be neither read nor written as a file.
    let file = dir.path().join("settings.json");
    std::fs::create_dir(&file).unwrap();
    let app = start(&file);
    let info = app.invoke("device_info", json!({})).unwrap();
    assert!(
        info["settingsWarnings"][0]
            .as_str()
            .unwrap()
            .contains("using defaults")
    );
    assert_eq!(app.settings()["autoAnswer"], json!(false));
    let error = app
        .invoke("save_settings", json!({ "settings": app.settings() }))
        .unwrap_err();
    assert_eq!(error["code"], json!("storage"));
}

#[test]
fn not_discoverable_means_no_peer_list() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    std::fs::write(&file, json!({ "discoverable": false }).to_string()).unwrap();
    let app = start_with_node(&file, private_mdns_port());
    assert_eq!(app.invoke("list_peers", json!({})).unwrap(), json!([]));
    let error = app
        .invoke("add_peer", json!({ "address": "127.0.0.1:9" }))
        .unwrap_err();
    assert_eq!(error["code"], json!("add-peer-failed"));
    assert!(error["message"].as_str().unwrap().contains("discoverable"));
    crate::device_commands::stop_node(app.app.handle());
}
