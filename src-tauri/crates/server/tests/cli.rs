//! The `parley-server` binary: starts, says where, serves, and says `bye` on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt as _, Stream, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

/// Kills the server if a test fails before it exits by itself.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line.trim().rsplit("://").next().unwrap().to_owned();
    assert!(
        line.starts_with("parley-server listening on http"),
        "{line}"
    );
    (Server(child), addr)
}

async fn next_text(
    ws: &mut (impl Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Message {
    tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn serves_rooms_and_says_bye_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("parley-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<title>Parley</title>").unwrap();
    let (mut server, addr) = start(&["--static-dir", dir.to_str().unwrap(), "--capacity", "3"]);

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws.send(Message::text(r#"{"type":"hello","version":1}"#))
        .await
        .unwrap();
    assert!(
        next_text(&mut ws)
            .await
            .to_text()
            .unwrap()
            .contains(r#""type":"welcome""#)
    );
    ws.send(Message::text(r#"{"type":"create"}"#))
        .await
        .unwrap();
    let created = next_text(&mut ws).await;
    assert!(
        created.to_text().unwrap().contains(r#""capacity":3"#),
        "{created:?}"
    );

    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status();
    assert!(status.unwrap().success());
    let bye = next_text(&mut ws).await;
    assert!(
        bye.to_text().unwrap().contains(r#""type":"bye""#),
        "{bye:?}"
    );
    match next_text(&mut ws).await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected close, got {other:?}"),
    }
    let deadline = std::time::Instant::now() + WAIT;
    let exit = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "server did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await; // polling interval
    };
    assert!(exit.success());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rejects_a_capacity_out_of_range() {
    let out = Command::new(env!("CARGO_BIN_EXE_parley-server"))
        .args(["--capacity", "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("capacity"));
}

#[tokio::test]
async fn serves_wss_with_the_given_certificate_and_key() {
    use std::sync::Arc;
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("parley-cli-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let (_server, addr) = start(&[
        "--tls-cert",
        cert_path.to_str().unwrap(),
        "--tls-key",
        key_path.to_str().unwrap(),
    ]);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let url = format!("wss://localhost:{}/ws", addr.rsplit(':').next().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls).await.unwrap();
    ws.send(Message::text(r#"{"type":"hello","version":1}"#))
        .await
        .unwrap();
    assert!(
        next_text(&mut ws)
            .await
            .to_text()
            .unwrap()
            .contains(r#""type":"welcome""#)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
