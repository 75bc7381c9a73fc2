//! TypeScript declarations for the UI, generated from these types (one source of truth).

use ts_rs::{Config, TS};

use crate::*;

/// All wire types and constants as one TypeScript module.
pub fn typescript_bindings() -> String {
    let cfg = Config::new();
    let decls = [
        PeerId::decl(&cfg),
        KnockId::decl(&cfg),
        IceServer::decl(&cfg),
        ServerMode::decl(&cfg),
        Media::decl(&cfg),
        LeaveReason::decl(&cfg),
        Resume::decl(&cfg),
        ErrorCode::decl(&cfg),
        ClientMessage::decl(&cfg),
        ServerMessage::decl(&cfg),
        DeviceInfo::decl(&cfg),
    ];
    let alphabet = String::from_utf8_lossy(ROOM_CODE_ALPHABET);
    let mut out = String::from(
        "// Generated from src-tauri/crates/protocol by `make protocol-ts`. Do not edit.\n\n",
    );
    out.push_str(&format!(
        "export const PROTOCOL_VERSION = {PROTOCOL_VERSION};\n"
    ));
    out.push_str(&format!(
        "export const MAX_FRAME_BYTES = {MAX_FRAME_BYTES};\n"
    ));
    out.push_str(&format!(
        "export const ROOM_CODE_ALPHABET = \"{alphabet}\";\n"
    ));
    out.push_str(&format!("export const ROOM_CODE_LEN = {ROOM_CODE_LEN};\n"));
    out.push_str("/** A room code, shown as XXXX-XXXX. */\nexport type RoomCode = string;\n");
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}
