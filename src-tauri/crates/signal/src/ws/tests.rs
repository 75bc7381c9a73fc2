//! The frame reader and writer against tungstenite's frame codec (an independent
//! implementation): every message comes out whole however the bytes are split, bad input
//! gets the RFC close code, and nothing panics or stays buffered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::{Frame, FrameHeader};

use super::read::close;
use super::{Flow, FrameReader, Incoming, Violation, write};

const MAX: usize = 64 * 1024;

/// What the reader hands out, owned, for comparison.
#[derive(Clone, Debug, PartialEq)]
enum Event {
    Text(String),
    Binary,
    Ping(Vec<u8>),
    Pong,
    Close(Option<u16>, String),
}

/// A client frame, masked, in tungstenite's encoding.
fn client_frame(opcode: OpCode, fin: bool, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let header = FrameHeader {
        is_final: fin,
        opcode,
        mask: Some(mask),
        ..FrameHeader::default()
    };
    let mut out = Vec::new();
    Frame::from_payload(header, payload.to_vec().into())
        .format(&mut out)
        .unwrap();
    out
}

/// Feeds `bytes` split at `cuts`; the events, and the error if one ended it.
fn read_all(bytes: &[u8], cuts: &[usize], max: usize) -> (Vec<Event>, Option<Violation>) {
    let mut reader = FrameReader::default();
    let mut events = Vec::new();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    for pair in points.windows(2) {
        let mut chunk = bytes[pair[0]..pair[1]].to_vec();
        let fed = reader.feed(&mut chunk, max, &mut |frame| {
            events.push(match frame {
                Incoming::Text(t) => Event::Text(t.to_owned()),
                Incoming::Binary => Event::Binary,
                Incoming::Ping(p) => Event::Ping(p.to_vec()),
                Incoming::Pong => Event::Pong,
                Incoming::Close(c, r) => Event::Close(c, r.to_owned()),
            });
            Flow::Continue
        });
        if let Err(v) = fed {
            return (events, Some(v));
        }
    }
    assert!(
        reader.is_idle(),
        "whole messages read, yet the reader holds memory"
    );
    (events, None)
}

/// A message as the client sends it: data split into fragments, or a control frame.
#[derive(Clone, Debug)]
enum Sent {
    Text(String, usize),
    Binary(Vec<u8>, usize),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn sent() -> impl Strategy<Value = Sent> {
    prop_oneof![
        ("\\PC{0,300}", 1..4usize).prop_map(|(t, n)| Sent::Text(t, n)),
        (prop::collection::vec(any::<u8>(), 0..300), 1..4usize)
            .prop_map(|(b, n)| Sent::Binary(b, n)),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Sent::Ping),
        prop::collection::vec(any::<u8>(), 0..=125).prop_map(Sent::Pong),
    ]
}

/// Encodes `messages` (a ping between fragments when `interleave`) and what must come out.
fn encode(messages: &[Sent], mask: [u8; 4], interleave: bool) -> (Vec<u8>, Vec<Event>) {
    let mut bytes = Vec::new();
    let mut expected = Vec::new();
    for message in messages {
        let (payload, kind, parts) = match message {
            Sent::Text(t, n) => (t.as_bytes(), Data::Text, *n),
            Sent::Binary(b, n) => (b.as_slice(), Data::Binary, *n),
            Sent::Ping(p) => {
                bytes.extend(client_frame(OpCode::Control(Control::Ping), true, p, mask));
                expected.push(Event::Ping(p.clone()));
                continue;
            }
            Sent::Pong(p) => {
                bytes.extend(client_frame(OpCode::Control(Control::Pong), true, p, mask));
                expected.push(Event::Pong);
                continue;
            }
        };
        let size = payload.len().div_ceil(parts).max(1);
        let chunks: Vec<&[u8]> = if payload.is_empty() {
            vec![&[]]
        } else {
            payload.chunks(size).collect()
        };
        for (i, chunk) in chunks.iter().enumerate() {
            let opcode = if i == 0 { kind } else { Data::Continue };
            let fin = i + 1 == chunks.len();
            bytes.extend(client_frame(OpCode::Data(opcode), fin, chunk, mask));
            if interleave && !fin {
                bytes.extend(client_frame(
                    OpCode::Control(Control::Ping),
                    true,
                    b"x",
                    mask,
                ));
                expected.push(Event::Ping(b"x".to_vec()));
            }
        }
        expected.push(match message {
            Sent::Text(t, _) => Event::Text(t.clone()),
            _ => Event::Binary,
        });
    }
    (bytes, expected)
}

proptest! {
    /// Messages come out whole and in order, however the bytes are split into reads.
    #[test]
    fn messages_survive_any_split(
        messages in prop::collection::vec(sent(), 0..8),
        mask in any::<[u8; 4]>(),
        interleave in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let (bytes, expected) = encode(&messages, mask, interleave);
        let (events, error) = read_all(&bytes, &cuts, MAX);
        prop_assert_eq!(error, None);
        prop_assert_eq!(events, expected);
    }

    /// Arbitrary bytes never panic, and nothing over the limit is ever buffered.
    #[test]
    fn arbitrary_bytes_are_safe(
        bytes in prop::collection::vec(any::<u8>(), 0..2000),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        max in 0..300usize,
    ) {
        let mut reader = FrameReader::default();
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.extend([0, bytes.len()]);
        points.sort_unstable();
        for pair in points.windows(2) {
            let mut chunk = bytes[pair[0]..pair[1]].to_vec();
            let fed = reader.feed(&mut chunk, max, &mut |frame| {
                if let Incoming::Text(t) = frame {
                    assert!(t.len() <= max);
                }
                Flow::Continue
            });
            if fed.is_err() {
                break;
            }
            prop_assert!(reader.buffered() <= max + 14);
        }
    }

    /// The writer's frames parse with tungstenite, unmasked, final, with the right payload.
    #[test]
    fn written_frames_parse(text in "\\PC{0,200}", repeat in 0..400usize) {
        let text = text.repeat(repeat.min(400 * 1024 / (text.len() + 1)));
        let mut out = Vec::new();
        write::text(&mut out, &text);
        let mut cursor = std::io::Cursor::new(&out);
        let (header, len) = tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
            .unwrap()
            .unwrap();
        prop_assert!(header.is_final && header.mask.is_none());
        prop_assert_eq!(header.opcode, OpCode::Data(Data::Text));
        prop_assert_eq!(len as usize, text.len());
        prop_assert_eq!(&out[cursor.position() as usize..], text.as_bytes());
    }
}

fn violation(bytes: &[u8]) -> Option<u16> {
    read_all(bytes, &[], MAX).1.map(|v| v.code)
}

#[test]
fn bad_frames_get_their_close_codes() {
    let mask = [1, 2, 3, 4];
    let text = OpCode::Data(Data::Text);
    let mut unmasked = Vec::new();
    Frame::message(b"hi".to_vec(), text, true)
        .format(&mut unmasked)
        .unwrap();
    assert_eq!(violation(&unmasked), Some(close::PROTOCOL));
    let mut rsv = client_frame(text, true, b"hi", mask);
    rsv[0] |= 0x40;
    assert_eq!(violation(&rsv), Some(close::PROTOCOL));
    let ping = OpCode::Control(Control::Ping);
    assert_eq!(
        violation(&client_frame(ping, false, b"", mask)),
        Some(close::PROTOCOL)
    );
    assert_eq!(
        violation(&client_frame(ping, true, &[0; 126], mask)),
        Some(close::PROTOCOL)
    );
    // A 64-bit length with its top bit set (RFC 6455, 5.2), refused from the header.
    let top_bit = [0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    assert_eq!(violation(&top_bit), Some(close::PROTOCOL));
    let cont = OpCode::Data(Data::Continue);
    assert_eq!(
        violation(&client_frame(cont, true, b"x", mask)),
        Some(close::PROTOCOL)
    );
    let mut nested = client_frame(text, false, b"a", mask);
    nested.extend(client_frame(text, true, b"b", mask));
    assert_eq!(violation(&nested), Some(close::PROTOCOL));
    assert_eq!(
        violation(&client_frame(text, true, &[0xff, 0xfe], mask)),
        Some(close::BAD_DATA)
    );
    let close_op = OpCode::Control(Control::Close);
    assert_eq!(
        violation(&client_frame(close_op, true, &[3], mask)),
        Some(close::PROTOCOL)
    );
    assert_eq!(
        violation(&client_frame(close_op, true, &1005u16.to_be_bytes(), mask)),
        Some(close::PROTOCOL)
    );
    assert_eq!(
        violation(&client_frame(
            OpCode::Data(Data::Reserved(3)),
            true,
            b"",
            mask
        )),
        Some(close::PROTOCOL)
    );
}

#[test]
fn close_frames_carry_code_and_reason() {
    let mut payload = 1001u16.to_be_bytes().to_vec();
    payload.extend_from_slice("bye".as_bytes());
    let frame = client_frame(OpCode::Control(Control::Close), true, &payload, [9; 4]);
    let (events, error) = read_all(&frame, &[3], MAX);
    assert_eq!(error, None);
    assert_eq!(events, vec![Event::Close(Some(1001), "bye".into())]);
    let empty = client_frame(OpCode::Control(Control::Close), true, b"", [9; 4]);
    assert_eq!(
        read_all(&empty, &[], MAX).0,
        vec![Event::Close(None, String::new())]
    );
}

#[test]
fn oversized_messages_are_refused_from_the_header_alone() {
    let text = OpCode::Data(Data::Text);
    let at_limit = client_frame(text, true, &vec![b'x'; MAX], [5; 4]);
    assert_eq!(read_all(&at_limit, &[7, 70_000], MAX).1, None);
    let over = client_frame(text, true, &vec![b'x'; MAX + 1], [5; 4]);
    // The 14-byte header alone is enough to refuse it: nothing of the payload is read.
    let mut reader = FrameReader::default();
    let fed = reader.feed(&mut over[..14].to_vec(), MAX, &mut |_| Flow::Continue);
    assert_eq!(fed.map_err(|v| v.code), Err(close::TOO_BIG));
    assert_eq!(reader.buffered(), 0);
    // Fragments adding up to more than the limit are refused too.
    let mut fragments = client_frame(text, false, &vec![b'x'; MAX], [5; 4]);
    fragments.extend(client_frame(
        OpCode::Data(Data::Continue),
        true,
        b"x",
        [5; 4],
    ));
    assert_eq!(violation(&fragments), Some(close::TOO_BIG));
}

#[test]
fn close_and_pong_frames_are_written_as_the_rfc_says() {
    let mut out = Vec::new();
    write::close(&mut out, Some(1009), "message too big");
    let mut expected = vec![0x88, 17, 0x03, 0xF1];
    expected.extend_from_slice(b"message too big");
    assert_eq!(out, expected);
    out.clear();
    write::close(&mut out, Some(1000), &"é".repeat(100));
    assert_eq!(out[1], 2 + 122, "cut to 125 bytes at a character boundary");
    out.clear();
    write::pong(&mut out, b"abc");
    assert_eq!(out, vec![0x8A, 3, b'a', b'b', b'c']);
    out.clear();
    write::ping(&mut out);
    assert_eq!(out, vec![0x89, 0]);
}
