//! Resume after a drop, TURN credentials, TLS and shutdown, over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Client, TestServer, WAIT, create_room};
use parley_protocol::{LeaveReason, ServerMessage};
use parley_signal::{IceConfig, ServerConfig};
use serde_json::json;

/// Says hello with `resume`; returns the welcome's peer id, resume token and `resumed`.
async fn resume(client: &mut Client, peer: &str, token: &str) -> (String, String, bool) {
    client
        .send(json!({"type": "hello", "version": 1, "resume": {"peerId": peer, "token": token}}))
        .await;
    match client.recv().await {
        ServerMessage::Welcome {
            peer_id,
            resume_token,
            resumed,
            ..
        } => (peer_id.0, resume_token, resumed),
        other => panic!("{other:?}"),
    }
}

async fn hello_with_token(client: &mut Client) -> (String, String) {
    client.send(json!({"type": "hello", "version": 1})).await;
    match client.recv().await {
        ServerMessage::Welcome {
            peer_id,
            resume_token,
            ..
        } => (peer_id.0, resume_token),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_peer_resumes_its_id_and_room_within_the_grace_period() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, a_id) = server.hello().await;
    let mut b = server.client().await;
    let (b_id, b_token) = hello_with_token(&mut b).await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    b.recv().await;
    a.recv().await;
    drop(b);
    let left = a.recv().await;
    assert!(matches!(
        left,
        ServerMessage::PeerLeft {
            reason: LeaveReason::Dropped,
            ..
        }
    ));

    // The place is kept: a newcomer finds the room full.
    let (mut c, _) = server.hello().await;
    c.send(json!({"type": "join", "code": code})).await;
    assert!(matches!(c.recv().await, ServerMessage::Full { .. }));

    // A wrong token resumes nothing.
    let mut wrong = server.client().await;
    let (other_id, _, resumed) = resume(&mut wrong, &b_id, "not-the-token").await;
    assert!(!resumed);
    assert_ne!(other_id, b_id);

    let mut b2 = server.client().await;
    let (id, new_token, resumed) = resume(&mut b2, &b_id, &b_token).await;
    assert!(resumed);
    assert_eq!(id, b_id);
    assert_ne!(
        new_token, b_token,
        "each welcome gives a fresh resume token"
    );
    match b2.recv().await {
        ServerMessage::Joined {
            code: joined,
            peers,
            ..
        } => {
            assert_eq!(joined.to_string(), code);
            assert_eq!(peers, vec![a_id.clone()]);
        }
        other => panic!("{other:?}"),
    }
    let ServerMessage::PeerJoined { peer } = a.recv().await else {
        panic!()
    };
    assert_eq!(peer.0, b_id);
    a.send(json!({"type": "signal", "to": b_id, "data": "welcome back"}))
        .await;
    assert!(matches!(b2.recv().await, ServerMessage::Signal { .. }));

    // The old token is spent.
    drop(b2);
    a.recv().await;
    let mut b3 = server.client().await;
    let (_, _, resumed) = resume(&mut b3, &b_id, &b_token).await;
    assert!(!resumed);
}

#[tokio::test]
async fn resume_takes_over_a_connection_that_still_looks_open() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _) = server.hello().await;
    let mut b = server.client().await;
    let (b_id, b_token) = hello_with_token(&mut b).await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    b.recv().await;
    a.recv().await;
    let mut b2 = server.client().await;
    let (id, _, resumed) = resume(&mut b2, &b_id, &b_token).await;
    assert!(resumed && id == b_id);
    let (close, seen) = b.closed().await;
    assert!(close.is_some());
    assert!(
        matches!(seen.as_slice(), [ServerMessage::Bye { .. }]),
        "{seen:?}"
    );
    assert!(matches!(
        a.recv().await,
        ServerMessage::PeerLeft {
            reason: LeaveReason::Dropped,
            ..
        }
    ));
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { .. }));
}

#[tokio::test]
async fn after_the_grace_period_the_place_and_empty_room_are_gone() {
    let mut config = ServerConfig::public();
    config.limits.resume_grace = Duration::from_millis(200);
    let server = TestServer::start(config).await;
    let mut a = server.client().await;
    let (a_id, a_token) = hello_with_token(&mut a).await;
    create_room(&mut a).await;
    drop(a);
    // Wait (on the server's own count, with a deadline) for the room to be released.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (_, metrics) = server.http_get("/metrics").await;
        if metrics.contains("\nparley_rooms 0\n") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "room never released"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // polling interval, not a sync
    }
    let mut again = server.client().await;
    let (_, _, resumed) = resume(&mut again, &a_id, &a_token).await;
    assert!(!resumed);
}

#[tokio::test]
async fn turn_credentials_match_an_independent_hmac() {
    let mut config = ServerConfig::public();
    config.ice = IceConfig {
        stun_urls: vec!["stun:stun.example.org:3478".into()],
        turn_urls: vec!["turn:turn.example.org:3478?transport=udp".into()],
        turn_secret: Some("north-wind-secret".into()),
        turn_ttl: Duration::from_secs(3600),
    };
    let server = TestServer::start(config).await;
    let mut client = server.client().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    client.send(json!({"type": "hello", "version": 1})).await;
    let ServerMessage::Welcome {
        peer_id,
        ice_servers,
        ..
    } = client.recv().await
    else {
        panic!()
    };
    assert_eq!(ice_servers.len(), 2);
    assert_eq!(ice_servers[0].urls, vec!["stun:stun.example.org:3478"]);
    assert!(ice_servers[0].username.is_none());
    let turn = &ice_servers[1];
    let user = turn.username.clone().unwrap();
    let (expiry, peer) = user.split_once(':').unwrap();
    assert_eq!(peer, peer_id.0);
    let expiry: u64 = expiry.parse().unwrap();
    assert!(expiry >= before.as_secs() + 3600 && expiry <= before.as_secs() + 3602);
    // What coturn computes: base64(HMAC-SHA1(secret, username)), here by Python.
    let script = "import sys,hmac,hashlib,base64;\
        print(base64.b64encode(hmac.new(sys.argv[1].encode(),sys.argv[2].encode(),hashlib.sha1).digest()).decode())";
    let out = std::process::Command::new("python3")
        .args(["-c", script, "north-wind-secret", &user])
        .output()
        .expect("python3 runs");
    assert!(out.status.success());
    assert_eq!(
        turn.credential.as_deref(),
        Some(String::from_utf8(out.stdout).unwrap().trim())
    );
}

#[tokio::test]
async fn clients_hear_bye_when_the_server_shuts_down() {
    let mut server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _) = server.hello().await;
    let mut fresh = server.client().await; // no hello yet: told all the same
    create_room(&mut a).await;
    server.shutdown().await;
    for client in [&mut a, &mut fresh] {
        let (close, seen) = client.closed().await;
        assert!(
            matches!(seen.as_slice(), [ServerMessage::Bye { .. }]),
            "{seen:?}"
        );
        assert_eq!(u16::from(close.expect("close frame").code), 1001);
    }
}

#[tokio::test]
async fn tls_handshake_and_protocol_over_wss() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let cert_pem = cert.cert.pem();
    let key_pem = cert.signing_key.serialize_pem();
    let tls =
        parley_signal::tls_config_from_pem_bytes(cert_pem.as_bytes(), key_pem.as_bytes()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (handle, task) = parley_signal::spawn_tls(listener, ServerConfig::public(), tls, async {
        let _ = stopped.await;
    })
    .unwrap();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tcp = tokio::net::TcpStream::connect(handle.local_addr())
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls_stream = connector.connect(name, tcp).await.expect("TLS handshake");
    let url = format!("wss://localhost:{}/ws", handle.local_addr().port());
    let (mut ws, _) = tokio_tungstenite::client_async(url, tls_stream)
        .await
        .unwrap();
    use futures_util::{SinkExt as _, StreamExt as _};
    ws.send(tokio_tungstenite::tungstenite::Message::text(
        r#"{"type":"hello","version":1}"#,
    ))
    .await
    .unwrap();
    let frame = tokio::time::timeout(WAIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let msg = parley_protocol::decode_server(frame.to_text().unwrap()).unwrap();
    assert!(matches!(msg, ServerMessage::Welcome { .. }), "{msg:?}");

    // A client that does not trust the certificate fails the handshake.
    let untrusting = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(handle.local_addr())
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let refused = tokio_rustls::TlsConnector::from(Arc::new(untrusting))
        .connect(name, tcp)
        .await;
    assert!(refused.is_err());

    let _ = stop.send(());
    tokio::time::timeout(WAIT * 2, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
