//! Frame decoding that sorts every failure into the error the peer should hear.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{ClientMessage, ErrorCode, MAX_FRAME_BYTES, ServerMessage};

/// Why a text frame could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Larger than [`MAX_FRAME_BYTES`].
    #[error("frame of {0} bytes is over the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not JSON at all.
    #[error("not valid JSON: {0}")]
    BadJson(String),
    /// JSON, but not an object with a string `type`.
    #[error("a message is a JSON object with a string \"type\"")]
    NoType,
    /// A `type` this side does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// Known `type` with missing or ill-typed fields.
    #[error("bad {kind:?} message: {reason}")]
    BadFields {
        /// The message type.
        kind: String,
        /// serde's explanation.
        reason: String,
    },
}

impl DecodeError {
    /// The [`ErrorCode`] to report for this failure.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TooLarge(_) => ErrorCode::TooLarge,
            Self::BadJson(_) => ErrorCode::BadJson,
            Self::NoType | Self::BadFields { .. } => ErrorCode::BadMessage,
            Self::UnknownType(_) => ErrorCode::UnknownType,
        }
    }
}

const CLIENT_TYPES: &[&str] = &[
    "hello", "create", "join", "leave", "signal", "ping", "pong", "knock", "accept", "decline",
    "cancel",
];

const SERVER_TYPES: &[&str] = &[
    "welcome",
    "created",
    "joined",
    "full",
    "no-such-room",
    "peer-joined",
    "peer-left",
    "left",
    "signal",
    "ping",
    "pong",
    "incoming",
    "ringing",
    "declined",
    "unavailable",
    "cancelled",
    "bye",
    "error",
];

/// Decodes a frame sent by a client.
pub fn decode_client(text: &str) -> Result<ClientMessage, DecodeError> {
    decode(text, CLIENT_TYPES)
}

/// Decodes a frame sent by a server.
pub fn decode_server(text: &str) -> Result<ServerMessage, DecodeError> {
    decode(text, SERVER_TYPES)
}

fn decode<T: DeserializeOwned>(text: &str, known: &[&str]) -> Result<T, DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    // Fast path: well-formed frames parse once. Only a failure pays for the second parse
    // that works out which error to report.
    if let Ok(msg) = serde_json::from_str(text) {
        return Ok(msg);
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| DecodeError::BadJson(e.to_string()))?;
    let kind = match value.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        _ => return Err(DecodeError::NoType),
    };
    if !known.contains(&kind.as_str()) {
        return Err(DecodeError::UnknownType(kind));
    }
    serde_json::from_value(value).map_err(|e| DecodeError::BadFields {
        kind,
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PeerId, RoomCode};

    #[test]
    fn sorts_failures_by_what_the_peer_did_wrong() {
        assert_eq!(
            decode_client("{nope").unwrap_err().code(),
            ErrorCode::BadJson
        );
        assert_eq!(
            decode_client("[1]").unwrap_err().code(),
            ErrorCode::BadMessage
        );
        assert_eq!(
            decode_client(r#"{"type":3}"#).unwrap_err().code(),
            ErrorCode::BadMessage
        );
        assert_eq!(
            decode_client(r#"{"type":"teleport"}"#).unwrap_err(),
            DecodeError::UnknownType("teleport".into())
        );
        assert_eq!(
            decode_client(r#"{"type":"join"}"#).unwrap_err().code(),
            ErrorCode::BadMessage
        );
        let big = format!(
            r#"{{"type":"ping","pad":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(decode_client(&big).unwrap_err().code(), ErrorCode::TooLarge);
    }

    #[test]
    fn decodes_known_messages_and_ignores_unknown_fields() {
        let msg = decode_client(r#"{"type":"signal","to":"p1","data":{"sdp":"x"},"extra":1}"#);
        assert_eq!(
            msg.unwrap(),
            ClientMessage::Signal {
                to: PeerId("p1".into()),
                data: serde_json::json!({"sdp":"x"})
            }
        );
        let joined =
            decode_server(r#"{"type":"joined","code":"abcd-efgh","peers":[],"capacity":2}"#);
        assert_eq!(
            joined.unwrap(),
            ServerMessage::Joined {
                code: RoomCode::parse("ABCDEFGH").unwrap(),
                peers: vec![],
                capacity: 2
            }
        );
    }
}
