//! The server's own WebSocket layer (`ws/`) over real sockets: the upgrade handshake, the
//! client's control frames, fragmented messages and a broken frame.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, TestServer, WAIT, http_get};
use futures_util::{SinkExt as _, StreamExt as _};
use parley_protocol::ServerMessage;
use parley_signal::ServerConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};

/// The next frame that is not one of the server's own keep-alive pings.
async fn next_frame(client: &mut Client) -> Message {
    loop {
        let frame = tokio::time::timeout(WAIT, client.ws.next())
            .await
            .expect("no frame in time")
            .expect("connection ended")
            .expect("read error");
        if !matches!(frame, Message::Ping(_)) {
            return frame;
        }
    }
}

#[tokio::test]
async fn upgrade_requests_that_are_not_websocket_13_are_refused() {
    let server = TestServer::start(ServerConfig::public()).await;
    assert_eq!(server.http_get("/ws").await.0, 400, "plain GET");
    let upgrade = ("Upgrade", "websocket");
    let connection = ("Connection", "Upgrade");
    let key = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
    let (status, response) = http_get(
        server.addr,
        "/ws",
        &[upgrade, connection, key, ("Sec-WebSocket-Version", "8")],
    )
    .await;
    assert_eq!(status, 400, "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("sec-websocket-version: 13"),
        "the refusal names the version it speaks: {response}"
    );
    let version = ("Sec-WebSocket-Version", "13");
    let (status, response) = http_get(server.addr, "/ws", &[upgrade, connection, version]).await;
    assert_eq!(status, 400, "no key: {response}");
}

#[tokio::test]
async fn pings_fragments_and_close_from_the_client_are_answered() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut client, _) = server.hello().await;

    client.ws.send(Message::Ping("hi?".into())).await.unwrap();
    assert_eq!(next_frame(&mut client).await, Message::Pong("hi?".into()));

    // `{"type":"ping"}` in three fragments, a ping between two of them.
    let text = OpCode::Data(Data::Text);
    let more = OpCode::Data(Data::Continue);
    for frame in [
        Frame::message(&b"{\"type\""[..], text, false),
        Frame::message(&b":\"pi"[..], more, false),
        Frame::ping(&b"mid"[..]),
        Frame::message(&b"ng\"}"[..], more, true),
    ] {
        client.ws.send(Message::Frame(frame)).await.unwrap();
    }
    assert_eq!(next_frame(&mut client).await, Message::Pong("mid".into()));
    assert_eq!(client.recv().await, ServerMessage::Pong {});

    // The server echoes the client's close code (RFC 6455, 5.5.1).
    let bye = CloseFrame {
        code: CloseCode::Away,
        reason: "".into(),
    };
    client.ws.send(Message::Close(Some(bye))).await.unwrap();
    let (close, _) = client.closed().await;
    assert_eq!(close.expect("close reply").code, CloseCode::Away);
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let server = TestServer::start(ServerConfig::public()).await;
    let (mut client, _) = server.hello().await;
    let frame = Frame::message(&[0xff, 0xfe][..], OpCode::Data(Data::Text), true);
    client.ws.send(Message::Frame(frame)).await.unwrap();
    let (close, _) = client.closed().await;
    assert_eq!(u16::from(close.expect("close frame").code), 1007);
}
