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
    "request_attention",
    "owner_session",
    "list_peers",
    "add_peer",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
