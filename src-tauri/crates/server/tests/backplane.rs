//! Shared mode: three `parley-server` instances on loopback sharing rooms through a real
//! `redis-server`. Members sit on different instances; instances and Redis fail mid-run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod shared;

use serde_json::json;
use shared::{Client, Instance, Redis};

async fn three(redis: &Redis, extra: &[&str]) -> [Instance; 3] {
    let instances = [0, 1, 2].map(|_| Instance::start(redis, extra));
    for instance in &instances {
        instance.wait_backplane(true).await;
    }
    instances
}

/// `a` creates a room on `first` and `b` joins it from `second`; `a` has heard of `b`.
async fn room_of_two(first: &Instance, second: &Instance) -> (Client, Client, String) {
    let (mut a, _) = Client::hello(first, None).await;
    let code = a.create().await;
    let (mut b, _) = Client::hello(second, None).await;
    assert_eq!(b.join(&code).await["type"], "joined");
    a.expect("peer-joined").await;
    (a, b, code)
}

/// A third member joins `code` from `instance`; both `members` hear of it.
async fn third_joins(instance: &Instance, code: &str, members: [&mut Client; 2]) -> Client {
    let (mut c, _) = Client::hello(instance, None).await;
    assert_eq!(c.join(code).await["type"], "joined");
    for member in members {
        member.expect("peer-joined").await;
    }
    c
}

#[tokio::test]
async fn members_on_different_instances_create_join_fill_and_signal() {
    let redis = Redis::start();
    let [i0, i1, i2] = three(&redis, &[]).await;

    let (mut a, _) = Client::hello(&i0, None).await;
    let code = a.create().await;
    let (mut b, _) = Client::hello(&i1, None).await;
    let joined = b.join(&code).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["peers"], json!([a.peer]));
    assert_eq!(a.expect("peer-joined").await["peer"], b.peer.as_str());

    // Capacity 2 holds across instances.
    let (mut c, _) = Client::hello(&i2, None).await;
    let full = c.join(&code).await;
    assert_eq!(full["type"], "full", "{full}");

    // Signals both ways, between instances.
    a.signal(&b.peer, json!({"sdp": "offer from a"})).await;
    let got = b.expect("signal").await;
    assert_eq!(
        (got["from"].as_str(), &got["data"]),
        (Some(a.peer.as_str()), &json!({"sdp": "offer from a"}))
    );
    b.signal(&a.peer, json!({"candidate": "b1"})).await;
    let got = a.expect("signal").await;
    assert_eq!(
        (got["from"].as_str(), &got["data"]),
        (Some(b.peer.as_str()), &json!({"candidate": "b1"}))
    );

    // A place freed on one instance can be taken from another.
    b.send(json!({"type": "leave"})).await;
    b.expect("left").await;
    let left = a.expect("peer-left").await;
    assert_eq!(
        (left["peer"].as_str(), left["reason"].as_str()),
        (Some(b.peer.as_str()), Some("left"))
    );
    let joined = c.join(&code).await;
    assert_eq!(joined["peers"], json!([a.peer]), "{joined}");
    assert_eq!(a.expect("peer-joined").await["peer"], c.peer.as_str());
    c.signal(&a.peer, json!("hi")).await;
    assert_eq!(a.expect("signal").await["data"], "hi");
}

#[tokio::test]
async fn client_of_a_killed_instance_resumes_on_another() {
    let redis = Redis::start();
    let [i0, mut i1, i2] = three(&redis, &["--resume-grace", "30"]).await;
    let (mut a, b, code) = room_of_two(&i0, &i1).await;

    i1.kill();
    let (mut moved, welcome) = Client::hello(&i2, Some((&b.peer, &b.token))).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    assert_eq!(moved.peer, b.peer);
    let joined = moved.expect("joined").await;
    assert_eq!(
        (joined["code"].as_str(), &joined["peers"]),
        (Some(code.as_str()), &json!([a.peer]))
    );
    // As on one instance: the room sees the old connection drop, then the peer come back.
    let left = a.expect("peer-left").await;
    assert_eq!(
        (left["peer"].as_str(), left["reason"].as_str()),
        (Some(b.peer.as_str()), Some("dropped"))
    );
    assert_eq!(a.expect("peer-joined").await["peer"], b.peer.as_str());

    a.signal(&moved.peer, json!({"sdp": "restart"})).await;
    assert_eq!(
        moved.expect("signal").await["data"],
        json!({"sdp": "restart"})
    );
    moved.signal(&a.peer, json!({"sdp": "answer"})).await;
    assert_eq!(a.expect("signal").await["from"], b.peer.as_str());
}

#[tokio::test]
async fn a_dead_instances_members_expire_and_free_the_room() {
    let redis = Redis::start();
    let [i0, mut i1, i2] = three(&redis, &["--resume-grace", "1"]).await;
    let (mut a, b, code) = room_of_two(&i0, &i1).await;

    i1.kill();
    // Nobody refreshes b's place any more: after its deadline a's instance prunes it.
    let left = a.expect("peer-left").await;
    assert_eq!(
        (left["peer"].as_str(), left["reason"].as_str()),
        (Some(b.peer.as_str()), Some("dropped"))
    );
    let (mut c, _) = Client::hello(&i2, None).await;
    assert_eq!(c.join(&code).await["peers"], json!([a.peer]));
    // The expired place can no longer be resumed.
    let (_late, welcome) = Client::hello(&i2, Some((&b.peer, &b.token))).await;
    assert_eq!(welcome["resumed"], false);
}

#[tokio::test]
async fn rooms_work_again_after_redis_restarts() {
    let mut redis = Redis::start();
    let [i0, i1, i2] = three(&redis, &[]).await;
    let (mut a, mut b, code) = room_of_two(&i0, &i1).await;

    redis.kill();
    for instance in [&i0, &i1, &i2] {
        instance.wait_backplane(false).await;
    }
    let (mut c, _) = Client::hello(&i2, None).await;
    c.send(json!({"type": "create"})).await;
    let refused = c.expect("error").await;
    assert_eq!(refused["code"], "unavailable", "{refused}");
    // A signal to another instance cannot go either, and the sender is told.
    a.signal(&b.peer, json!("while down")).await;
    let refused = a.expect("error").await;
    assert_eq!(refused["code"], "unavailable", "{refused}");

    redis.restart();
    for instance in [&i0, &i1, &i2] {
        instance.wait_backplane(true).await;
    }
    // The room survived (Redis persisted it) and relays again; new rooms work too.
    a.signal(&b.peer, json!("after restart")).await;
    assert_eq!(b.expect("signal").await["data"], "after restart");
    let code2 = c.create().await;
    assert_ne!(code2, code);
}

#[tokio::test]
async fn join_rate_limit_holds_across_instances() {
    let redis = Redis::start();
    let instances = three(&redis, &["--join-attempts", "3", "--join-window", "60"]).await;
    let mut clients = Vec::new();
    for instance in &instances {
        clients.push(Client::hello(instance, None).await.0);
    }
    for client in &mut clients {
        assert_eq!(client.join("BBBB-BBBB").await["type"], "no-such-room");
    }
    for client in &mut clients {
        let refused = client.join("BBBB-BBBB").await;
        assert_eq!(
            (refused["type"].as_str(), refused["code"].as_str()),
            (Some("error"), Some("rate-limited")),
            "{refused}"
        );
    }
}

/// Each instance routes signals by its own copy of the room's member list: every join,
/// leave and drop must reach the copies on the other instances before the clients hear of it.
#[tokio::test]
async fn membership_changes_reach_every_instances_copy_of_the_room() {
    let redis = Redis::start();
    let [i0, i1, i2] = three(&redis, &["--capacity", "3"]).await;
    let (mut a, mut b, code) = room_of_two(&i0, &i1).await;
    // Right after hearing of b, a can reach it.
    a.signal(&b.peer, json!("a->b")).await;
    assert_eq!(b.expect("signal").await["data"], "a->b");

    let (mut c, _) = Client::hello(&i2, None).await;
    assert_eq!(c.join(&code).await["peers"], json!([a.peer, b.peer]));
    assert_eq!(a.expect("peer-joined").await["peer"], c.peer.as_str());
    assert_eq!(b.expect("peer-joined").await["peer"], c.peer.as_str());
    a.signal(&c.peer, json!("a->c")).await;
    b.signal(&c.peer, json!("b->c")).await;
    let mut got = [c.expect("signal").await, c.expect("signal").await]
        .map(|s| format!("{} {}", s["from"].as_str().unwrap(), s["data"]));
    got.sort();
    let mut want = [
        format!("{} \"a->c\"", a.peer),
        format!("{} \"b->c\"", b.peer),
    ];
    want.sort();
    assert_eq!(got, want);
    c.signal(&a.peer, json!("c->a")).await;
    c.signal(&b.peer, json!("c->b")).await;
    assert_eq!(a.expect("signal").await["data"], "c->a");
    assert_eq!(b.expect("signal").await["data"], "c->b");
}

#[tokio::test]
async fn a_member_who_left_or_dropped_is_no_longer_relayed_to() {
    let redis = Redis::start();
    let [i0, i1, i2] = three(&redis, &["--capacity", "3", "--resume-grace", "30"]).await;
    let (mut a, mut b, code) = room_of_two(&i0, &i1).await;
    let mut c = third_joins(&i2, &code, [&mut a, &mut b]).await;

    // b leaves on instance 1: instance 0 no longer relays to it.
    b.send(json!({"type": "leave"})).await;
    b.expect("left").await;
    assert_eq!(a.expect("peer-left").await["peer"], b.peer.as_str());
    c.expect("peer-left").await;
    a.signal(&b.peer, json!("too late")).await;
    let refused = a.expect("error").await;
    assert_eq!(refused["code"], "no-such-peer", "{refused}");
    b.signal(&a.peer, json!("from outside")).await;
    assert_eq!(b.expect("error").await["code"], "not-in-room");

    // c's connection drops (its place is kept for a resume): nobody relays to it meanwhile.
    drop(c);
    let left = a.expect("peer-left").await;
    assert_eq!(left["reason"], "dropped", "{left}");
    let away = left["peer"].as_str().unwrap().to_owned();
    a.signal(&away, json!("away")).await;
    assert_eq!(a.expect("error").await["code"], "no-such-peer");
}

#[tokio::test]
async fn a_resumed_member_is_reached_on_its_new_instance_from_everywhere() {
    let redis = Redis::start();
    let [i0, mut i1, i2] = three(&redis, &["--capacity", "3", "--resume-grace", "30"]).await;
    let (mut a, mut b, code) = room_of_two(&i0, &i1).await;
    let mut c = third_joins(&i2, &code, [&mut a, &mut b]).await;

    // b's instance dies; b comes back on c's instance.
    i1.kill();
    let (mut moved, welcome) = Client::hello(&i2, Some((&b.peer, &b.token))).await;
    assert_eq!(welcome["resumed"], true, "{welcome}");
    moved.expect("joined").await;
    for other in [&mut a, &mut c] {
        assert_eq!(other.expect("peer-left").await["reason"], "dropped");
        assert_eq!(other.expect("peer-joined").await["peer"], b.peer.as_str());
    }
    // From another instance and from its own.
    a.signal(&moved.peer, json!("a->b")).await;
    assert_eq!(moved.expect("signal").await["data"], "a->b");
    c.signal(&moved.peer, json!("c->b")).await;
    assert_eq!(moved.expect("signal").await["data"], "c->b");
    moved.signal(&a.peer, json!("b->a")).await;
    moved.signal(&c.peer, json!("b->c")).await;
    assert_eq!(a.expect("signal").await["data"], "b->a");
    assert_eq!(c.expect("signal").await["data"], "b->c");
}

/// Frames are queued and published in batches: a burst still arrives complete and in order.
#[tokio::test]
async fn a_burst_of_signals_arrives_in_order_across_instances() {
    let redis = Redis::start();
    let limits = [
        "--msg-rate",
        "100000",
        "--msg-burst",
        "100000",
        "--queue-depth",
        "1000",
    ];
    let [i0, i1, _i2] = three(&redis, &limits).await;
    let (mut a, mut b, _) = room_of_two(&i0, &i1).await;
    for n in 0..500 {
        a.signal(&b.peer, json!(n)).await;
    }
    for n in 0..500 {
        assert_eq!(b.expect("signal").await["data"], n);
    }
}
