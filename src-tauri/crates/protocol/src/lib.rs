//! Parley signaling protocol, version 1.
//!
//! Wire types only: every frame is a JSON text frame whose `type` field names the message.
//! Clients send [`ClientMessage`]s, servers answer with [`ServerMessage`]s. This crate does no
//! I/O; the signaling server, the headless node and the app all share it, and the UI's
//! TypeScript types are generated from it (see `tests/ts_bindings.rs`).
//!
//! Decoding never panics: [`decode_client`] and [`decode_server`] sort every bad frame into a
//! [`DecodeError`] whose [`DecodeError::code`] is the [`ErrorCode`] the server reports back.

mod code;
mod decode;
mod messages;
mod typescript;

pub use code::{ROOM_CODE_ALPHABET, ROOM_CODE_LEN, RoomCode};
pub use decode::{DecodeError, decode_client, decode_server};
pub use messages::*;
pub use typescript::typescript_bindings;

/// Protocol version spoken by this crate; sent in `hello` and `welcome`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest text frame a peer may send, in bytes (64 KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
