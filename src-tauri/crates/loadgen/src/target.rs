//! The two servers under test and how a client speaks to each.
//!
//! Parley: `GET /ws`, `hello` -> `welcome`, rooms by code, `signal{to,data}` relayed as
//! `signal{from,data}`. peerjs-server (npm `peer`): `GET /peerjs?key=..&id=..&token=..`, the
//! server answers `OPEN`, and `{type:"CANDIDATE",dst,payload}` is relayed with `src` added.
//! peerjs has no rooms: a "pair" is simply two ids that address each other.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::ValueEnum;
use parley_protocol::{ClientMessage, PROTOCOL_VERSION, PeerId, ServerMessage, decode_server};
use serde_json::{Value, json};

use crate::LoadError;
use crate::conn::{Ws, connect, next_text, send_text};

/// How long to wait for a handshake or room answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// Marker in every relayed payload, followed by the send time as 20 decimal digits.
const STAMP_KEY: &str = "\"ts\":\"";
/// Digits in the send-time stamp (nanoseconds since the generator started).
const STAMP_DIGITS: usize = 20;

/// Which server implementation is being measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Kind {
    /// `parley-server`.
    Parley,
    /// peerjs-server (npm package `peer`).
    Peerjs,
}

/// A client name unique across runs against one server (peerjs ids outlive a closed socket
/// briefly, and a reused id with another token is refused as taken).
pub(crate) fn client_name(role: &str, index: usize) -> String {
    format!("{role}{}x{index}", std::process::id())
}

/// An open connection that finished the server's greeting.
pub(crate) struct Client {
    /// The socket.
    pub(crate) ws: Ws,
    /// Our id on the server (Parley: from `welcome`; peerjs: chosen by us).
    pub(crate) id: String,
}

/// Connects and completes the greeting (`hello`/`welcome` or peerjs's `OPEN`).
pub(crate) async fn open(
    kind: Kind,
    server: SocketAddr,
    source: Ipv4Addr,
    name: &str,
) -> Result<Client, LoadError> {
    match kind {
        Kind::Parley => {
            let mut ws = connect(server, source, "/ws").await?;
            let hello = ClientMessage::Hello {
                version: PROTOCOL_VERSION,
                token: None,
                resume: None,
            };
            send_text(&mut ws, serde_json::to_string(&hello)?).await?;
            let welcome = next_parley(&mut ws, "welcome").await?;
            match welcome {
                ServerMessage::Welcome { peer_id, .. } => Ok(Client { ws, id: peer_id.0 }),
                other => Err(LoadError::Unexpected(format!(
                    "expected welcome, got {other:?}"
                ))),
            }
        }
        Kind::Peerjs => {
            let path = format!("/peerjs?key=peerjs&id={name}&token=t{name}");
            let mut ws = connect(server, source, &path).await?;
            let open = next_text(&mut ws, ANSWER_TIMEOUT).await?;
            let value: Value = serde_json::from_str(&open)?;
            if value["type"] != "OPEN" {
                return Err(LoadError::Unexpected(format!("expected OPEN, got {open}")));
            }
            Ok(Client {
                ws,
                id: name.to_owned(),
            })
        }
    }
}

/// Reads the next Parley message, answering application pings on the way.
async fn next_parley(ws: &mut Ws, waiting_for: &str) -> Result<ServerMessage, LoadError> {
    loop {
        let text = next_text(ws, ANSWER_TIMEOUT).await?;
        let message = decode_server(&text).map_err(|err| {
            LoadError::Unexpected(format!(
                "undecodable frame while waiting for {waiting_for}: {err}"
            ))
        })?;
        match message {
            ServerMessage::Ping {} => answer_ping(ws).await?,
            ServerMessage::Error { code, message } => {
                return Err(LoadError::Unexpected(format!(
                    "error {code:?} ({message}) while waiting for {waiting_for}"
                )));
            }
            other => return Ok(other),
        }
    }
}

/// Answers a Parley application-level `ping`.
pub(crate) async fn answer_ping(ws: &mut Ws) -> Result<(), LoadError> {
    send_text(ws, serde_json::to_string(&ClientMessage::Pong {})?).await
}

/// Puts `a` and `b` in one room of their own (Parley); peerjs needs nothing.
pub(crate) async fn pair_up(kind: Kind, a: &mut Client, b: &mut Client) -> Result<(), LoadError> {
    if kind == Kind::Peerjs {
        return Ok(());
    }
    send_text(&mut a.ws, serde_json::to_string(&ClientMessage::Create {})?).await?;
    let code = match next_parley(&mut a.ws, "created").await? {
        ServerMessage::Created { code, .. } => code,
        other => {
            return Err(LoadError::Unexpected(format!(
                "expected created, got {other:?}"
            )));
        }
    };
    let join = ClientMessage::Join {
        code: code.to_string(),
    };
    send_text(&mut b.ws, serde_json::to_string(&join)?).await?;
    match next_parley(&mut b.ws, "joined").await? {
        ServerMessage::Joined { peers, .. } if peers == [PeerId(a.id.clone())] => {}
        other => {
            return Err(LoadError::Unexpected(format!(
                "expected joined with {}, got {other:?}",
                a.id
            )));
        }
    }
    match next_parley(&mut a.ws, "peer-joined").await? {
        ServerMessage::PeerJoined { peer } if peer.0 == b.id => Ok(()),
        other => Err(LoadError::Unexpected(format!(
            "expected peer-joined {}, got {other:?}",
            b.id
        ))),
    }
}

/// The payload every relayed message carries: shaped like a trickled ICE candidate, padded so
/// its JSON is exactly `bytes` long, with a fixed-width send-time stamp.
pub(crate) fn candidate_payload(bytes: usize) -> Value {
    let base = "candidate:842163049 1 udp 1677729535 203.0.113.7 54321 typ srflx raddr 192.168.1.7 rport 54321 generation 0";
    let zeros = "0".repeat(STAMP_DIGITS);
    let with = |candidate: String| json!({"candidate": candidate, "sdpMid": "0", "sdpMLineIndex": 0, "ts": zeros});
    let unpadded = with(base.to_owned()).to_string().len();
    let pad = bytes.saturating_sub(unpadded);
    with(format!("{base}{}", " ".repeat(pad)))
}

/// A ready-to-send relay frame whose stamp is rewritten in place before each send.
#[derive(Clone)]
pub(crate) struct Frame {
    text: String,
    stamp_at: usize,
}

impl Frame {
    /// Builds the frame `from` sends to reach `to`, carrying `payload`.
    pub(crate) fn new(kind: Kind, to: &str, payload: &Value) -> Result<Self, LoadError> {
        let text = match kind {
            Kind::Parley => serde_json::to_string(&ClientMessage::Signal {
                to: PeerId(to.to_owned()),
                data: payload.clone(),
            })?,
            Kind::Peerjs => json!({"type": "CANDIDATE", "dst": to, "payload": payload}).to_string(),
        };
        let stamp_at = text
            .find(STAMP_KEY)
            .map(|at| at + STAMP_KEY.len())
            .ok_or_else(|| LoadError::Unexpected("payload has no stamp".into()))?;
        Ok(Self { text, stamp_at })
    }

    /// The frame text stamped with `nanos`.
    pub(crate) fn stamped(&mut self, nanos: u64) -> String {
        let digits = format!("{nanos:0width$}", width = STAMP_DIGITS);
        self.text
            .replace_range(self.stamp_at..self.stamp_at + STAMP_DIGITS, &digits);
        self.text.clone()
    }
}

/// True if `text` is a relayed payload (not a control message such as a ping).
pub(crate) fn is_relay(kind: Kind, text: &str) -> bool {
    let marker = match kind {
        Kind::Parley => "\"type\":\"signal\"",
        Kind::Peerjs => "\"type\":\"CANDIDATE\"",
    };
    text.contains(marker)
}

/// The send-time stamp in a relayed frame.
pub(crate) fn stamp_of(text: &str) -> Option<u64> {
    let at = text.find(STAMP_KEY)? + STAMP_KEY.len();
    text.get(at..at + STAMP_DIGITS)?.parse().ok()
}

/// Checks one relayed frame in full: right sender, payload passed through untouched.
pub(crate) fn verify_relay(
    kind: Kind,
    text: &str,
    from: &str,
    payload: &Value,
) -> Result<(), LoadError> {
    let (sender, mut data) = match kind {
        Kind::Parley => match decode_server(text) {
            Ok(ServerMessage::Signal { from, data }) => (from.0, data),
            other => {
                return Err(LoadError::Unexpected(format!(
                    "expected signal, got {other:?}"
                )));
            }
        },
        Kind::Peerjs => {
            let mut value: Value = serde_json::from_str(text)?;
            let sender = value["src"].as_str().unwrap_or_default().to_owned();
            (sender, value["payload"].take())
        }
    };
    // The stamp differs per message; everything else must be byte-for-byte what was sent.
    data["ts"] = payload["ts"].clone();
    if sender != from || &data != payload {
        return Err(LoadError::Unexpected(format!(
            "relayed frame altered or misrouted: {text}"
        )));
    }
    Ok(())
}

/// Whether a non-relay frame needs an answer (Parley's application `ping`).
pub(crate) fn is_ping(kind: Kind, text: &str) -> bool {
    kind == Kind::Parley && matches!(decode_server(text), Ok(ServerMessage::Ping {}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_has_the_asked_size_and_a_stamp_that_round_trips() {
        let payload = candidate_payload(200);
        assert_eq!(payload.to_string().len(), 200);
        let mut frame = Frame::new(Kind::Parley, "peer-b", &payload).unwrap();
        let text = frame.stamped(123_456_789);
        assert_eq!(stamp_of(&text), Some(123_456_789));
        let decoded: ClientMessage = serde_json::from_str(&text).unwrap();
        assert!(matches!(decoded, ClientMessage::Signal { ref to, .. } if to.0 == "peer-b"));
    }

    #[test]
    fn a_peerjs_relay_is_verified_against_the_sent_payload() {
        let payload = candidate_payload(200);
        let mut frame = Frame::new(Kind::Peerjs, "b", &payload).unwrap();
        let sent: Value = serde_json::from_str(&frame.stamped(7)).unwrap();
        let relayed =
            json!({"type": "CANDIDATE", "src": "a", "dst": "b", "payload": sent["payload"]})
                .to_string();
        assert!(is_relay(Kind::Peerjs, &relayed));
        verify_relay(Kind::Peerjs, &relayed, "a", &payload).unwrap();
        assert!(verify_relay(Kind::Peerjs, &relayed, "c", &payload).is_err());
    }
}
