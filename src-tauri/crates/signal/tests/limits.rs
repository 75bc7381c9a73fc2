//! Limits and bad input over real sockets: every bad frame gets a typed error or the RFC
//! close code, abusers are cut off, and other rooms do not notice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Client, TestServer, create_room};
use futures_util::SinkExt as _;
use parley_protocol::{LeaveReason, PeerId, ServerMessage};
use parley_signal::ServerConfig;
use serde_json::json;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A room of two with a relay that works, to show bad neighbours leave it alone.
async fn healthy_pair(server: &TestServer) -> (Client, PeerId, Client, PeerId) {
    let (mut a, a_id) = server.hello().await;
    let (mut b, b_id) = server.hello().await;
    let code = create_room(&mut a).await;
    b.send(json!({"type": "join", "code": code})).await;
    b.recv().await;
    a.recv().await;
    (a, a_id, b, b_id)
}

async fn relay_still_works(a: &mut Client, b: &mut Client, b_id: &PeerId) {
    a.send(json!({"type": "signal", "to": b_id.0, "data": "still here"}))
        .await;
    assert!(matches!(b.recv().await, ServerMessage::Signal { .. }));
}

#[tokio::test]
async fn bad_frames_get_typed_errors_and_do_not_disturb_others() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _, mut b, b_id) = healthy_pair(&server).await;
    let (mut bad, _) = server.hello().await;
    for (frame, code) in [
        ("{not json", "bad-json"),
        ("[1,2]", "bad-message"),
        (r#"{"type":"teleport"}"#, "unknown-type"),
        (r#"{"type":"join"}"#, "bad-message"),
        (r#"{"type":"signal","to":"x"}"#, "bad-message"),
        (
            r#"{"type":"knock","name":"x","device":"y","media":"hologram"}"#,
            "bad-message",
        ),
        ("", "bad-json"),
    ] {
        bad.send_text(frame).await;
        bad.expect_error(code).await;
    }
    bad.ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    bad.expect_error("binary-frame").await;
    // Signalling a peer of another room is refused.
    create_room(&mut bad).await;
    bad.send(json!({"type": "signal", "to": b_id.0, "data": 1}))
        .await;
    bad.expect_error("no-such-peer").await;
    relay_still_works(&mut a, &mut b, &b_id).await;
    let (_, metrics) = server.http_get("/metrics").await;
    assert!(
        metrics.contains("parley_errors_total{code=\"bad-json\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("parley_errors_total{code=\"no-such-peer\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn oversized_frame_closes_with_1009() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut a, _, mut b, b_id) = healthy_pair(&server).await;
    let (mut big, _) = server.hello().await;
    // Exactly at the limit is fine (and reaches the decoder).
    let at_limit = format!(
        r#"{{"type":"ping","pad":"{}"}}"#,
        "x".repeat(64 * 1024 - 24)
    );
    assert_eq!(at_limit.len(), 64 * 1024);
    big.send_text(&at_limit).await;
    assert_eq!(big.recv().await, ServerMessage::Pong {});
    big.send_text(&format!("{at_limit} ")).await;
    let (close, _) = big.closed().await;
    assert_eq!(u16::from(close.expect("close frame").code), 1009);
    relay_still_works(&mut a, &mut b, &b_id).await;
}

#[tokio::test]
async fn disallowed_browser_origin_is_refused_with_403() {
    let mut config = ServerConfig::public();
    config.allowed_origins = vec!["https://parley.example".into()];
    let server = TestServer::start(config).await;
    match Client::connect(&server.url(), Some("https://evil.example")).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 403),
        Err(other) => panic!("expected HTTP 403, got {other:?}"),
        Ok(_) => panic!("evil origin was let in"),
    }
    let own = format!("http://{}", server.addr);
    for origin in [
        "https://parley.example",
        "tauri://localhost",
        "http://tauri.localhost",
        &own,
    ] {
        let mut client = Client::connect(&server.url(), Some(origin)).await.unwrap();
        client.hello().await;
    }
}

#[tokio::test]
async fn message_rate_is_limited_and_sustained_abuse_disconnects() {
    let mut config = ServerConfig::public();
    config.limits.msg_rate_per_sec = 1;
    config.limits.msg_burst = 5;
    config.limits.max_rate_violations = 10;
    let server = TestServer::start(config).await;
    let (mut a, _, mut b, b_id) = healthy_pair(&server).await;
    let (mut flood, _) = server.hello().await; // hello took one token
    for _ in 0..6 {
        flood.send(json!({"type": "ping"})).await;
    }
    let mut replies = Vec::new();
    for _ in 0..6 {
        replies.push(flood.recv().await);
    }
    let pongs = replies
        .iter()
        .filter(|m| **m == ServerMessage::Pong {})
        .count();
    let limited = replies
        .iter()
        .filter(|m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: parley_protocol::ErrorCode::RateLimited,
                    ..
                }
            )
        })
        .count();
    assert!(
        pongs >= 4 && limited >= 1 && pongs + limited == 6,
        "{replies:?}"
    );
    for _ in 0..20 {
        if flood
            .ws
            .send(Message::text(r#"{"type":"ping"}"#))
            .await
            .is_err()
        {
            break;
        }
    }
    let (close, _) = flood.closed().await;
    assert_eq!(u16::from(close.expect("close frame").code), 1008);
    relay_still_works(&mut a, &mut b, &b_id).await;
}

#[tokio::test]
async fn connections_per_ip_are_capped_with_429() {
    let mut config = ServerConfig::public();
    config.limits.max_conns_per_ip = 2;
    let server = TestServer::start(config).await;
    let first = server.client().await;
    let _second = server.client().await;
    match Client::connect(&server.url(), None).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 429),
        other => panic!("expected 429, got {:?}", other.map(|_| ())),
    }
    // A closed connection frees its place.
    drop(first);
    let deadline = tokio::time::Instant::now() + common::WAIT;
    loop {
        if Client::connect(&server.url(), None).await.is_ok() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "place never freed");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn join_attempts_per_ip_are_limited_across_connections() {
    let mut config = ServerConfig::public();
    config.limits.join_attempts = 3;
    config.limits.join_window = Duration::from_secs(600);
    let server = TestServer::start(config).await;
    let (mut guesser, _) = server.hello().await;
    for _ in 0..3 {
        guesser
            .send(json!({"type": "join", "code": "0000-0000"}))
            .await;
        assert!(matches!(
            guesser.recv().await,
            ServerMessage::NoSuchRoom { .. }
        ));
    }
    guesser
        .send(json!({"type": "join", "code": "0000-0000"}))
        .await;
    guesser.expect_error("rate-limited").await;
    let (mut again, _) = server.hello().await;
    again
        .send(json!({"type": "join", "code": "0000-0001"}))
        .await;
    again.expect_error("rate-limited").await;
}

#[tokio::test]
async fn silent_connection_times_out_and_its_room_hears_dropped() {
    let mut config = ServerConfig::public();
    config.limits.ping_interval = Duration::from_millis(50);
    config.limits.idle_timeout = Duration::from_millis(300);
    config.limits.resume_grace = Duration::ZERO;
    let server = TestServer::start(config).await;
    let (mut a, _) = server.hello().await;
    let (mut mute, mute_id) = server.hello().await;
    let code = create_room(&mut a).await;
    mute.send(json!({"type": "join", "code": code})).await;
    mute.recv().await;
    assert!(matches!(a.recv().await, ServerMessage::PeerJoined { .. }));
    // `mute` now never reads, so never answers pings; `a` reads and so answers them.
    let left = a.recv().await;
    assert_eq!(
        left,
        ServerMessage::PeerLeft {
            peer: mute_id,
            reason: LeaveReason::Dropped
        }
    );
    // Its client may fail answering a queued ping before it reads the close frame; if it
    // does read it, the code says why.
    let (close, _) = mute.closed().await;
    if let Some(close) = close {
        assert_eq!(u16::from(close.code), 1008);
    }
    let (_, metrics) = server.http_get("/metrics").await;
    assert!(
        metrics.contains("parley_server_closes_total{reason=\"idle\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn slow_consumer_is_dropped_with_bounded_memory() {
    let mut config = ServerConfig::public();
    config.limits.queue_depth = 4;
    config.limits.msg_rate_per_sec = 100_000;
    config.limits.msg_burst = 100_000;
    let server = TestServer::start(config).await;
    let (mut sender, _) = server.hello().await;
    let (mut sleeper, sleeper_id) = server.hello().await;
    let code = create_room(&mut sender).await;
    sleeper.send(json!({"type": "join", "code": code})).await;
    sleeper.recv().await;
    sender.recv().await;
    // `sleeper` stops reading; sockets buffers fill, then its queue, then it is cut off.
    let payload = "p".repeat(60 * 1024);
    let msg = json!({"type": "signal", "to": sleeper_id.0, "data": payload}).to_string();
    let mut dropped = false;
    for _ in 0..2000 {
        sender.send_text(&msg).await;
        let next = tokio::time::timeout(Duration::from_millis(1), sender.recv_raw()).await;
        if let Ok(ServerMessage::PeerLeft {
            reason: LeaveReason::Dropped,
            ..
        }) = next
        {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "slow consumer was never dropped");
    let (_, metrics) = server.http_get("/metrics").await;
    assert!(
        metrics.contains("parley_server_closes_total{reason=\"slow-consumer\"} 1"),
        "{metrics}"
    );
}
