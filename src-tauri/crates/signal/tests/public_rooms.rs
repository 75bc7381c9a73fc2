//! Public mode over real sockets: rooms, relay, capacity, leaving and dropping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, create_room};
use parley_protocol::{LeaveReason, ServerMessage, ServerMode};
use parley_signal::{Mode, ServerConfig};
use serde_json::json;

#[tokio::test]
async fn welcome_carries_version_mode_and_identity() {
    let server = TestServer::start(ServerConfig::public()).await;
    let mut client = server.client().await;
    client.send(json!({"type": "hello", "version": 1})).await;
    match client.recv().await {
        ServerMessage::Welcome {
            version,
            server,
            mode,
            peer_id,
            resume_token,
            owner,
            resumed,
            ice_servers,
        } => {
            assert_eq!(version, 1);
            assert!(server.starts_with("parley/"));
            assert_eq!(mode, ServerMode::Public);
            assert_eq!(peer_id.0.len(), 12);
            assert!(resume_token.len() >= 26);
            assert!(!owner && !resumed);
            assert!(ice_servers.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn two_peers_meet_by_code_and_relay_signals() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut alice, alice_id) = server.hello().await;
    let (mut bob, bob_id) = server.hello().await;
    let code = create_room(&mut alice).await;
    assert_eq!(code.len(), 9, "shown as XXXX-XXXX");

    // Typed in lower case without the dash: still the same room.
    let typed = code.replace('-', "").to_lowercase();
    bob.send(json!({"type": "join", "code": typed})).await;
    match bob.recv().await {
        ServerMessage::Joined {
            code: joined,
            peers,
            capacity,
        } => {
            assert_eq!(joined.to_string(), code);
            assert_eq!(peers, vec![alice_id.clone()]);
            assert_eq!(capacity, 2);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        alice.recv().await,
        ServerMessage::PeerJoined {
            peer: bob_id.clone()
        }
    );

    let offer = json!({"sdp": {"type": "offer", "sdp": "v=0..."}});
    alice
        .send(json!({"type": "signal", "to": bob_id.0, "data": offer}))
        .await;
    assert_eq!(
        bob.recv().await,
        ServerMessage::Signal {
            from: alice_id.clone(),
            data: offer
        }
    );
    let cand = json!({"candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host"});
    bob.send(json!({"type": "signal", "to": alice_id.0, "data": cand}))
        .await;
    assert_eq!(
        alice.recv().await,
        ServerMessage::Signal {
            from: bob_id.clone(),
            data: cand
        }
    );
}

#[tokio::test]
async fn third_joiner_gets_full_and_capacity_is_configurable() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _) = server.hello().await;
    let (mut b, _) = server.hello().await;
    let (mut c, _) = server.hello().await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    assert!(matches!(b.recv().await, ServerMessage::Joined { .. }));
    c.send(json!({"type": "join", "code": code})).await;
    assert_eq!(c.recv().await, ServerMessage::Full { code: code.clone() });

    let mut config = ServerConfig::public();
    config.mode = Mode::Public { capacity: 3 };
    let big = TestServer::start(config).await;
    let (mut a, a_id) = big.hello().await;
    let (mut b, b_id) = big.hello().await;
    let (mut c, _) = big.hello().await;
    let (mut d, _) = big.hello().await;
    a.send(json!({"type": "create"})).await;
    let ServerMessage::Created { code, capacity } = a.recv().await else {
        panic!()
    };
    assert_eq!(capacity, 3);
    for x in [&mut b, &mut c] {
        x.send(json!({"type": "join", "code": code.to_string()}))
            .await;
        assert!(matches!(x.recv().await, ServerMessage::Joined { .. }));
    }
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { .. }));
    d.send(json!({"type": "join", "code": code.to_string()}))
        .await;
    assert!(matches!(d.recv().await, ServerMessage::Full { .. }));
    // The third member was told who was there, oldest first.
    c.send(json!({"type": "leave"})).await;
    assert_eq!(c.recv().await, ServerMessage::Left {});
    c.send(json!({"type": "join", "code": code.to_string()}))
        .await;
    let ServerMessage::Joined { peers, .. } = c.recv().await else {
        panic!()
    };
    assert_eq!(peers, vec![a_id, b_id]);
}

#[tokio::test]
async fn unknown_or_malformed_code_is_no_such_room_and_creates_nothing() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _) = server.hello().await;
    for code in ["0000-0000", "not a code"] {
        a.send(json!({"type": "join", "code": code})).await;
        assert_eq!(
            a.recv().await,
            ServerMessage::NoSuchRoom { code: code.into() }
        );
    }
    let (_, metrics) = server.http_get("/metrics").await;
    assert!(metrics.contains("\nparley_rooms 0\n"), "{metrics}");
}

#[tokio::test]
async fn leave_tells_the_room_and_the_last_one_out_deletes_it() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, a_id) = server.hello().await;
    let (mut b, _) = server.hello().await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    b.recv().await;
    a.recv().await;
    a.send(json!({"type": "leave"})).await;
    assert_eq!(a.recv().await, ServerMessage::Left {});
    assert_eq!(
        b.recv().await,
        ServerMessage::PeerLeft {
            peer: a_id,
            reason: LeaveReason::Left
        }
    );
    b.send(json!({"type": "leave"})).await;
    assert_eq!(b.recv().await, ServerMessage::Left {});
    // The room is gone: joining its code now finds nothing.
    a.send(json!({"type": "join", "code": code})).await;
    assert_eq!(a.recv().await, ServerMessage::NoSuchRoom { code });
    a.send(json!({"type": "leave"})).await;
    a.expect_error("not-in-room").await;
}

#[tokio::test]
async fn abrupt_disconnect_is_peer_left_dropped() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _) = server.hello().await;
    let (mut b, b_id) = server.hello().await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    b.recv().await;
    a.recv().await;
    drop(b); // TCP closes without a WebSocket close or a leave
    assert_eq!(
        a.recv().await,
        ServerMessage::PeerLeft {
            peer: b_id,
            reason: LeaveReason::Dropped
        }
    );
}

#[tokio::test]
async fn ping_pong_and_state_errors() {
    let server = TestServer::start(ServerConfig::public()).await;
    let mut a = server.client().await;
    a.send(json!({"type": "create"})).await;
    a.expect_error("need-hello").await;
    a.send(json!({"type": "hello", "version": 2})).await;
    a.expect_error("bad-version").await;
    a.hello().await;
    a.send(json!({"type": "hello", "version": 1})).await;
    a.expect_error("need-hello").await;
    a.send(json!({"type": "ping"})).await;
    assert_eq!(a.recv().await, ServerMessage::Pong {});
    a.send(json!({"type": "signal", "to": "nobody", "data": 1}))
        .await;
    a.expect_error("not-in-room").await;
    create_room(&mut a).await;
    a.send(json!({"type": "create"})).await;
    a.expect_error("already-in-room").await;
    a.send(json!({"type": "join", "code": "0000-0000"})).await;
    a.expect_error("already-in-room").await;
    a.send(json!({"type": "signal", "to": "nobody", "data": 1}))
        .await;
    a.expect_error("no-such-peer").await;
    a.send(json!({"type": "knock", "name": "x", "device": "d", "media": "audio"}))
        .await;
    a.expect_error("forbidden").await;
    a.send(json!({"type": "accept", "knock": "k"})).await;
    a.expect_error("forbidden").await;
    a.send(json!({"type": "cancel"})).await;
    a.expect_error("no-such-knock").await;
}

#[tokio::test]
async fn http_routes_health_metrics_and_static_files() {
    let dir = std::env::temp_dir().join(format!("parley-static-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("index.html"), "<h1>Parley</h1>").unwrap();
    std::fs::write(dir.join("assets/app.js"), "console.log(1)").unwrap();
    let mut config = ServerConfig::public();
    config.static_dir = Some(dir.clone());
    let server = TestServer::start(config).await;
    let (status, resp) = server.http_get("/healthz").await;
    assert_eq!((status, common::body(&resp)), (200, "ok"));
    let (status, resp) = server.http_get("/assets/app.js").await;
    assert_eq!((status, common::body(&resp)), (200, "console.log(1)"));
    let (status, resp) = server.http_get("/join/ABCD-EFGH").await;
    assert_eq!(
        (status, common::body(&resp)),
        (200, "<h1>Parley</h1>"),
        "index.html fallback"
    );
    let (status, _) = server.http_get("/device").await;
    assert_eq!(status, 404, "no device info in public mode");
    let (_, resp) = server.http_get("/metrics").await;
    for name in [
        "parley_connections ",
        "parley_rooms ",
        "parley_messages_received_total ",
        "parley_errors_total{code=\"bad-json\"} ",
    ] {
        assert!(resp.contains(name), "{name} missing from {resp}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn router_can_be_embedded_in_another_axum_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = parley_signal::router(ServerConfig::public())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let url = format!("ws://{addr}/ws");
    let mut a = common::Client::connect(&url, None).await.unwrap();
    let mut b = common::Client::connect(&url, None).await.unwrap();
    a.hello().await;
    let b_id = b.hello().await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    assert!(matches!(b.recv().await, ServerMessage::Joined { .. }));
    a.recv().await;
    a.send(json!({"type": "signal", "to": b_id.0, "data": 7}))
        .await;
    assert!(matches!(b.recv().await, ServerMessage::Signal { .. }));
    server.abort();
}
