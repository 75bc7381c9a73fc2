//! `POST /introduce` over real sockets: what reaches the embedder, and what is refused before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::TestServer;
use parley_protocol::{DeviceInfo, Introduction};
use parley_signal::{IntroductionRejected, MAX_INTRODUCTION_BYTES, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

fn device_config() -> ServerConfig {
    let info = DeviceInfo {
        id: "observer-1".into(),
        name: "Observer".into(),
        version: 1,
        app: "0.1.0".into(),
        os: "linux".into(),
    };
    ServerConfig::device("owner-token", info)
}

/// `POST /introduce` with this body over HTTP/1.0: status and body.
async fn post(addr: SocketAddr, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /introduce HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may refuse (413) before reading it all; a failed write is fine then.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, stream.read_to_end(&mut raw))
        .await
        .unwrap();
    let (status, text) = common::response(&raw);
    (status, common::body(&text).to_owned())
}

fn json(id: &str, port: u16) -> Vec<u8> {
    serde_json::to_vec(&Introduction {
        id: id.into(),
        port,
    })
    .unwrap()
}

#[tokio::test]
async fn without_a_receiver_introductions_are_not_accepted() {
    let mut server = TestServer::start(device_config()).await;
    assert_eq!(post(server.addr, &json("x", 1)).await.0, 404);
    server.shutdown().await;

    let mut public = TestServer::start(ServerConfig::public()).await;
    let _ignored = public.handle.accept_introductions(4);
    assert_eq!(post(public.addr, &json("x", 1)).await.0, 404);
    public.shutdown().await;
}

#[tokio::test]
async fn the_embedder_gets_the_claim_with_the_source_address_and_its_verdict_is_returned() {
    let mut server = TestServer::start(device_config()).await;
    let mut requests = server.handle.accept_introductions(4);
    let verifier = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(request) = requests.recv().await {
            seen.push((request.from, request.introduction.clone()));
            let verdict = if request.introduction.id == "genuine" {
                Ok(())
            } else {
                Err(IntroductionRejected("not a Parley device there".into()))
            };
            let _ = request.reply.send(verdict);
        }
        seen
    });

    assert_eq!(post(server.addr, &json("genuine", 4242)).await.0, 204);
    let (status, body) = post(server.addr, &json("forged", 4243)).await;
    assert_eq!((status, body.as_str()), (422, "not a Parley device there"));

    server.shutdown().await;
    drop(server);
    let seen = tokio::time::timeout(WAIT, verifier).await.unwrap().unwrap();
    let localhost = "127.0.0.1".parse().unwrap();
    assert_eq!(
        seen,
        vec![
            (
                localhost,
                Introduction {
                    id: "genuine".into(),
                    port: 4242
                }
            ),
            (
                localhost,
                Introduction {
                    id: "forged".into(),
                    port: 4243
                }
            ),
        ]
    );
}

#[tokio::test]
async fn junk_oversized_and_too_frequent_introductions_are_refused_before_the_embedder() {
    let mut server = TestServer::start(device_config()).await;
    let mut requests = server.handle.accept_introductions(4);

    for junk in [
        &b"nope"[..],
        b"{}",
        br#"{"id":"a","port":99999}"#,
        b"\xff\xfe",
    ] {
        let (status, body) = post(server.addr, junk).await;
        assert_eq!(status, 400, "{body}");
    }
    let huge = vec![b' '; MAX_INTRODUCTION_BYTES + 1];
    assert_eq!(post(server.addr, &huge).await.0, 413);
    // Ten counted requests per address per 10 s (the four above counted; the 413 did not get
    // that far): six more, then even a well-formed one is refused.
    for _ in 0..6 {
        assert_eq!(post(server.addr, b"nope").await.0, 400);
    }
    assert_eq!(post(server.addr, &json("late", 1)).await.0, 429);
    assert!(
        requests.try_recv().is_err(),
        "nothing refused reached the embedder"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn introductions_beyond_those_being_verified_are_refused_as_busy() {
    let mut server = TestServer::start(device_config()).await;
    let mut requests = server.handle.accept_introductions(16);
    let addr = server.addr;
    // Eight may wait for a verdict at once (`MAX_IN_FLIGHT`).
    let waiting: Vec<_> = (0..8)
        .map(|i| tokio::spawn(async move { post(addr, &json(&format!("d{i}"), 1)).await.0 }))
        .collect();
    let mut held = Vec::new();
    for _ in 0..8 {
        let request = tokio::time::timeout(WAIT, requests.recv()).await.unwrap();
        held.push(request.unwrap());
    }
    assert_eq!(post(addr, &json("ninth", 1)).await, (503, "busy".into()));
    // A verifier that gives up without a verdict leaves its sender a 503 too.
    drop(held.pop());
    for request in held {
        request.reply.send(Ok(())).unwrap();
    }
    let mut statuses = Vec::new();
    for task in waiting {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [vec![204; 7], vec![503]].concat());
    server.shutdown().await;
}
