//! Every message survives encode/decode, and the decoder never panics on arbitrary input.

use parley_protocol::*;
use proptest::prelude::*;
use serde_json::json;

fn peer(s: &str) -> PeerId {
    PeerId(s.into())
}

fn client_samples() -> Vec<ClientMessage> {
    vec![
        ClientMessage::Hello {
            version: PROTOCOL_VERSION,
            token: Some("t".into()),
            resume: None,
        },
        ClientMessage::Hello {
            version: 1,
            token: None,
            resume: Some(Resume {
                peer_id: peer("p"),
                token: "r".into(),
            }),
        },
        ClientMessage::Create {},
        ClientMessage::Join {
            code: "7K3Q-H2MX".into(),
        },
        ClientMessage::Leave {},
        ClientMessage::Signal {
            to: peer("p"),
            data: json!({"sdp": {"type": "offer"}}),
        },
        ClientMessage::Ping {},
        ClientMessage::Pong {},
        ClientMessage::Knock {
            name: "小明".into(),
            device: "d".into(),
            media: Media::Video,
        },
        ClientMessage::Accept {
            knock: KnockId("k".into()),
        },
        ClientMessage::Decline {
            knock: KnockId("k".into()),
        },
        ClientMessage::Cancel {},
    ]
}

fn server_samples() -> Vec<ServerMessage> {
    let code = RoomCode::from_random_bytes([1, 2, 3, 4, 5]);
    vec![
        ServerMessage::Welcome {
            version: 1,
            server: "parley-server/0.1.0".into(),
            mode: ServerMode::Public,
            peer_id: peer("p"),
            resume_token: "r".into(),
            ice_servers: vec![IceServer {
                urls: vec!["turn:example.org".into()],
                username: Some("1:p".into()),
                credential: Some("c".into()),
            }],
            owner: false,
            resumed: false,
        },
        ServerMessage::Created {
            code: code.clone(),
            capacity: 2,
        },
        ServerMessage::Joined {
            code,
            peers: vec![peer("a")],
            capacity: 2,
        },
        ServerMessage::Full { code: "x".into() },
        ServerMessage::NoSuchRoom { code: "x".into() },
        ServerMessage::PeerJoined { peer: peer("a") },
        ServerMessage::PeerLeft {
            peer: peer("a"),
            reason: LeaveReason::Dropped,
        },
        ServerMessage::Left {},
        ServerMessage::Signal {
            from: peer("a"),
            data: json!("candidate"),
        },
        ServerMessage::Ping {},
        ServerMessage::Pong {},
        ServerMessage::Incoming {
            knock: KnockId("k".into()),
            name: "n".into(),
            device: "d".into(),
            media: Media::Audio,
        },
        ServerMessage::Ringing {
            knock: KnockId("k".into()),
        },
        ServerMessage::Declined {},
        ServerMessage::Unavailable {},
        ServerMessage::Cancelled {
            knock: KnockId("k".into()),
        },
        ServerMessage::Bye {
            reason: "shutdown".into(),
        },
        ServerMessage::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
        },
    ]
}

#[test]
fn every_client_message_round_trips() {
    for msg in client_samples() {
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(decode_client(&text).unwrap(), msg, "{text}");
    }
}

#[test]
fn every_server_message_round_trips() {
    for msg in server_samples() {
        let text = serde_json::to_string(&msg).unwrap();
        assert_eq!(decode_server(&text).unwrap(), msg, "{text}");
    }
}

#[test]
fn wire_names_are_kebab_case_types_and_camel_case_fields() {
    let text = serde_json::to_string(&ServerMessage::NoSuchRoom { code: "c".into() }).unwrap();
    assert_eq!(text, r#"{"type":"no-such-room","code":"c"}"#);
    let hello = serde_json::to_value(&client_samples()[1]).unwrap();
    assert_eq!(hello["resume"]["peerId"], "p");
}

proptest! {
    #[test]
    fn decoder_never_panics_on_arbitrary_text(text in ".{0,300}") {
        let _ = decode_client(&text);
        let _ = decode_server(&text);
    }

    #[test]
    fn decoder_never_panics_on_json_with_a_known_type(
        kind in prop::sample::select(vec![
            "hello", "create", "join", "leave", "signal", "ping", "knock", "accept", "decline",
        ]),
        key in "[a-z]{1,6}",
        value in prop_oneof![
            Just(json!(null)), Just(json!(1)), Just(json!("s")), Just(json!([1])), Just(json!({})),
        ],
    ) {
        let text = json!({"type": kind, key: value}).to_string();
        if let Err(e) = decode_client(&text) {
            prop_assert_eq!(e.code(), ErrorCode::BadMessage);
        }
    }

    #[test]
    fn any_code_from_random_bytes_parses_back(bytes in any::<[u8; 5]>()) {
        let code = RoomCode::from_random_bytes(bytes);
        prop_assert_eq!(RoomCode::parse(&code.to_string()), Some(code.clone()));
        prop_assert_eq!(RoomCode::parse(&code.to_string().to_lowercase()), Some(code));
    }
}
