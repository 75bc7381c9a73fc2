//! TypeScript declarations of what crosses the app's IPC (command results, events), generated
//! from the Rust types so the UI never keeps a hand-written copy. Written to
//! `ui/src/protocol/app-ipc.ts`; `make protocol-ts` regenerates it, a test fails on drift.

use ts_rs::{Config, TS};

use crate::commands::{CommandError, DeviceInfo};
use crate::device::{OwnerSession, PeerListEvent};
use crate::settings::{Settings, TurnServer};
use crate::transport_bridge::TransportEvent;
use crate::webview::{MediaEngine, WebviewFeatures};

/// Every IPC type as one TypeScript module.
pub fn typescript_bindings() -> String {
    let cfg = Config::new();
    let decls = [
        Settings::decl(&cfg),
        TurnServer::decl(&cfg),
        DeviceInfo::decl(&cfg),
        WebviewFeatures::decl(&cfg),
        MediaEngine::decl(&cfg),
        CommandError::decl(&cfg),
        OwnerSession::decl(&cfg),
        parley_discovery::Peer::decl(&cfg),
        parley_discovery::PeerSource::decl(&cfg),
        parley_discovery::RemoveReason::decl(&cfg),
        parley_discovery::PeerEvent::decl(&cfg),
        PeerListEvent::decl(&cfg),
        TransportEvent::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the app's Rust types (src-tauri/src/ipc_types.rs) by `make protocol-ts`. Do not edit.\n",
    );
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// The UI's copy must equal what the Rust types generate; `PARLEY_UPDATE_TS=1` rewrites it.
    #[test]
    fn checked_in_typescript_matches_the_rust_types() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("ui/src/protocol/app-ipc.ts");
        let fresh = super::typescript_bindings();
        if std::env::var_os("PARLEY_UPDATE_TS").is_some() {
            std::fs::write(&path, &fresh).expect("write app-ipc.ts");
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == fresh,
            "{} is stale: run `make protocol-ts` and commit the result",
            path.display()
        );
    }
}
