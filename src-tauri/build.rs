//! Build script: tauri-build reads tauri.conf.json and capabilities/ beside the root Cargo.toml,
//! and generates `allow-<command>` permissions for the app's own commands so the capability
//! file can grant exactly those.

/// Every command in `generate_handler!` (src-tauri/src/lib.rs); a missing one is refused at
/// run time, which the app tests catch.
const COMMANDS: &[&str] = &[
    "get_settings",
    "save_settings",
    "device_info",
    "report_webview_features",
    "report_first_paint",
    "request_attention",
    "owner_session",
    "list_peers",
    "add_peer",
    "take_join_link",
    // Signaling connections dialled by the backend (src-tauri/src/transport_bridge.rs).
    "transport_open",
    "transport_send",
    "transport_close",
    // Native WebRTC engine (Linux; src-tauri/src/native_engine.rs).
    "native_available",
    "native_devices",
    "native_create",
    "native_create_channel",
    "native_set_local_auto",
    "native_set_local",
    "native_set_remote",
    "native_add_candidate",
    "native_send_text",
    "native_send_binary",
    "native_set_sending",
    "native_set_source",
    "native_stats",
    "native_close",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
