//! Device mode over real sockets: owner token, knock, accept, decline, cancel, unavailable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, TestServer};
use parley_protocol::{DeviceInfo, KnockId, LeaveReason, PeerId, ServerMessage, ServerMode};
use parley_signal::ServerConfig;
use serde_json::json;

const TOKEN: &str = "owner-secret-1234";

fn info(name: &str) -> DeviceInfo {
    DeviceInfo {
        id: "dev-1".into(),
        name: name.into(),
        version: 1,
        app: "0.1.0".into(),
        os: "linux".into(),
    }
}

async fn device_server() -> TestServer {
    TestServer::start(ServerConfig::device(TOKEN, info("Kitchen laptop"))).await
}

async fn owner(server: &TestServer) -> (Client, PeerId) {
    let mut owner = server.client().await;
    owner
        .send(json!({"type": "hello", "version": 1, "token": TOKEN}))
        .await;
    match owner.recv().await {
        ServerMessage::Welcome {
            owner: true,
            mode: ServerMode::Device,
            peer_id,
            ..
        } => (owner, peer_id),
        other => panic!("expected owner welcome, got {other:?}"),
    }
}

async fn knock(caller: &mut Client, owner: &mut Client, name: &str) -> KnockId {
    caller
        .send(json!({"type": "knock", "name": name, "device": "phone-9", "media": "video"}))
        .await;
    let ServerMessage::Incoming {
        knock,
        name: got,
        device,
        ..
    } = owner.recv().await
    else {
        panic!("owner not rung")
    };
    assert_eq!((got.as_str(), device.as_str()), (name, "phone-9"));
    assert_eq!(
        caller.recv().await,
        ServerMessage::Ringing {
            knock: knock.clone()
        }
    );
    knock
}

#[tokio::test]
async fn knock_accept_makes_a_private_two_party_room() {
    let server = device_server().await;
    let (mut owner, owner_id) = owner(&server).await;
    let (mut caller, caller_id) = server.hello().await;
    let knock = knock(&mut caller, &mut owner, "Bob").await;
    owner
        .send(json!({"type": "accept", "knock": knock.0}))
        .await;
    let ServerMessage::Joined {
        code,
        peers,
        capacity,
    } = owner.recv().await
    else {
        panic!()
    };
    assert_eq!((peers, capacity), (vec![caller_id.clone()], 2));
    let ServerMessage::Joined {
        code: code2, peers, ..
    } = caller.recv().await
    else {
        panic!()
    };
    assert_eq!((code2, peers), (code.clone(), vec![owner_id.clone()]));

    // They can signal each other; a stranger cannot join the private room by its code.
    caller
        .send(json!({"type": "signal", "to": owner_id.0, "data": {"sdp": "o"}}))
        .await;
    assert!(matches!(owner.recv().await, ServerMessage::Signal { .. }));
    let (mut stranger, _) = server.hello().await;
    stranger
        .send(json!({"type": "join", "code": code.to_string()}))
        .await;
    stranger.expect_error("forbidden").await;

    // While in the call the owner is busy.
    stranger
        .send(json!({"type": "knock", "name": "Eve", "device": "e", "media": "audio"}))
        .await;
    assert_eq!(stranger.recv().await, ServerMessage::Unavailable {});

    caller.send(json!({"type": "leave"})).await;
    assert_eq!(caller.recv().await, ServerMessage::Left {});
    assert_eq!(
        owner.recv().await,
        ServerMessage::PeerLeft {
            peer: caller_id,
            reason: LeaveReason::Left
        }
    );
    owner.send(json!({"type": "leave"})).await;
    assert_eq!(owner.recv().await, ServerMessage::Left {});
    // Free again: a knock rings.
    knock_and_expect_ring(&mut stranger, &mut owner).await;
}

async fn knock_and_expect_ring(caller: &mut Client, owner: &mut Client) {
    caller
        .send(json!({"type": "knock", "name": "Eve", "device": "e", "media": "audio"}))
        .await;
    assert!(matches!(owner.recv().await, ServerMessage::Incoming { .. }));
    assert!(matches!(caller.recv().await, ServerMessage::Ringing { .. }));
}

#[tokio::test]
async fn decline_tells_the_caller() {
    let server = device_server().await;
    let (mut owner, _) = owner(&server).await;
    let (mut caller, _) = server.hello().await;
    let knock = knock(&mut caller, &mut owner, "Bob").await;
    owner
        .send(json!({"type": "decline", "knock": knock.0}))
        .await;
    assert_eq!(caller.recv().await, ServerMessage::Declined {});
    owner
        .send(json!({"type": "accept", "knock": knock.0}))
        .await;
    owner.expect_error("no-such-knock").await;
}

#[tokio::test]
async fn cancel_or_caller_drop_tells_the_owner() {
    let server = device_server().await;
    let (mut owner, _) = owner(&server).await;
    let (mut caller, _) = server.hello().await;
    let first = knock(&mut caller, &mut owner, "Bob").await;
    caller.send(json!({"type": "cancel"})).await;
    assert_eq!(
        owner.recv().await,
        ServerMessage::Cancelled { knock: first }
    );
    let second = knock(&mut caller, &mut owner, "Bob").await;
    drop(caller);
    assert_eq!(
        owner.recv().await,
        ServerMessage::Cancelled { knock: second }
    );
}

#[tokio::test]
async fn no_owner_means_unavailable_and_owner_drop_rings_off() {
    let server = device_server().await;
    let (mut caller, _) = server.hello().await;
    caller
        .send(json!({"type": "knock", "name": "Bob", "device": "p", "media": "audio"}))
        .await;
    assert_eq!(caller.recv().await, ServerMessage::Unavailable {});
    let (mut owner, _) = owner(&server).await;
    knock(&mut caller, &mut owner, "Bob").await;
    drop(owner);
    assert_eq!(caller.recv().await, ServerMessage::Unavailable {});
}

#[tokio::test]
async fn accepting_one_knock_rings_off_the_others() {
    let server = device_server().await;
    let (mut owner, _) = owner(&server).await;
    let (mut bob, _) = server.hello().await;
    let (mut eve, _) = server.hello().await;
    let bob_knock = knock(&mut bob, &mut owner, "Bob").await;
    let eve_knock = knock(&mut eve, &mut owner, "Eve").await;
    owner
        .send(json!({"type": "accept", "knock": bob_knock.0}))
        .await;
    assert!(matches!(owner.recv().await, ServerMessage::Joined { .. }));
    assert_eq!(
        owner.recv().await,
        ServerMessage::Cancelled { knock: eve_knock }
    );
    assert!(matches!(bob.recv().await, ServerMessage::Joined { .. }));
    assert_eq!(eve.recv().await, ServerMessage::Unavailable {});
}

#[tokio::test]
async fn owner_token_is_enforced_and_strangers_can_only_knock() {
    let server = device_server().await;
    let mut impostor = server.client().await;
    impostor
        .send(json!({"type": "hello", "version": 1, "token": "guess"}))
        .await;
    impostor.expect_error("bad-token").await;
    let (close, _) = impostor.closed().await;
    assert_eq!(u16::from(close.expect("close frame").code), 1000);

    let (mut owner, _) = owner(&server).await;
    let (mut stranger, _) = server.hello().await;
    for msg in [
        json!({"type": "accept", "knock": "x"}),
        json!({"type": "decline", "knock": "x"}),
        json!({"type": "create"}),
        json!({"type": "join", "code": "0000-0000"}),
    ] {
        stranger.send(msg).await;
        stranger.expect_error("forbidden").await;
    }
    owner
        .send(json!({"type": "knock", "name": "me", "device": "d", "media": "audio"}))
        .await;
    owner.expect_error("forbidden").await;
    owner.send(json!({"type": "create"})).await;
    owner.expect_error("forbidden").await;
    owner.send(json!({"type": "accept", "knock": "nope"})).await;
    owner.expect_error("no-such-knock").await;
}

#[tokio::test]
async fn a_second_owner_connection_takes_over() {
    let server = device_server().await;
    let (mut first, _) = owner(&server).await;
    let (mut second, _) = owner(&server).await;
    let (close, seen) = first.closed().await;
    assert!(close.is_some());
    assert!(
        matches!(seen.as_slice(), [ServerMessage::Bye { .. }]),
        "{seen:?}"
    );
    let (mut caller, _) = server.hello().await;
    knock(&mut caller, &mut second, "Bob").await;
}

#[tokio::test]
async fn device_info_is_served_with_cors_and_can_change() {
    let server = device_server().await;
    let (status, resp) = server.http_get("/device").await;
    assert_eq!(status, 200);
    assert!(
        resp.to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{resp}"
    );
    let got: DeviceInfo = serde_json::from_str(common::body(&resp)).unwrap();
    assert_eq!(got, info("Kitchen laptop"));
    server.handle.set_device_info(info("Living room"));
    let (_, resp) = server.http_get("/device").await;
    let got: DeviceInfo = serde_json::from_str(common::body(&resp)).unwrap();
    assert_eq!(got.name, "Living room");
}
