//! Parley's app shell: the Tauri backend behind the UI, on desktop and mobile.
//!
//! [`run`] is the real app; [`build`] adds everything that does not need a real window to any
//! `tauri::Builder`, so tests drive it with Tauri's mock runtime.

pub mod commands;
pub mod deep_link;
#[cfg(desktop)]
mod desktop;
pub mod device;
pub mod device_commands;
pub mod ipc_types;
pub mod local_candidates;
#[cfg(target_os = "linux")]
pub mod native_engine;
pub mod settings;
pub mod settings_store;
pub mod transport_bridge;
pub mod webview;

use std::path::PathBuf;
use std::sync::Arc;

use tauri::plugin::TauriPlugin;
use tauri::{Manager, Runtime};

/// Choices made at start-up, from the environment in the real app and by tests otherwise.
#[derive(Debug, Clone)]
pub struct Options {
    /// Settings file; relative paths are under the app data directory.
    pub settings_file: PathBuf,
    /// Offer WebKit's mock camera and microphone (tests on machines without devices).
    pub mock_media: bool,
    /// Run the device node (server and discovery); `None` leaves it off (command tests).
    pub node: Option<device::NodeOptions>,
}

impl Options {
    /// Reads `PARLEY_SETTINGS_FILE`, `PARLEY_MOCK_MEDIA=1`, `PARLEY_PORT` (device server port,
    /// default 7878), and for tests `PARLEY_MDNS_PORT` and `PARLEY_MDNS_LOOPBACK=1`.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok();
        let defaults = device::NodeOptions::default();
        let node = device::NodeOptions {
            port: var("PARLEY_PORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(defaults.port),
            mdns_port: var("PARLEY_MDNS_PORT")
                .and_then(|p| p.parse().ok())
                .unwrap_or(defaults.mdns_port),
            loopback_only: var("PARLEY_MDNS_LOOPBACK").is_some_and(|v| v == "1"),
        };
        Self {
            settings_file: std::env::var_os("PARLEY_SETTINGS_FILE").map_or_else(
                || settings_store::DEFAULT_SETTINGS_FILE.into(),
                PathBuf::from,
            ),
            mock_media: var("PARLEY_MOCK_MEDIA").is_some_and(|v| v == "1"),
            node: Some(node),
        }
    }
}

/// Adds settings, commands and the webview setup to `builder`.
pub fn build<R: Runtime>(builder: tauri::Builder<R>, options: Options) -> tauri::Builder<R> {
    let settings_file = options.settings_file.clone();
    let node = options.node.clone();
    builder
        // On the builder rather than in `setup`: the deep-link plugin's setup, which runs
        // first, already stores a launch link in it.
        .manage(deep_link::PendingJoinLink::default())
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(webview_plugin(options.mock_media))
        .on_page_load(|webview, payload| {
            // A reloaded or closed page cannot hear its old connections any more.
            if payload.event() == tauri::webview::PageLoadEvent::Started {
                close_transports_of(webview.app_handle(), webview.label());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_settings,
            commands::save_settings,
            commands::device_info,
            commands::report_webview_features,
            commands::report_first_paint,
            commands::request_attention,
            device_commands::owner_session,
            device_commands::list_peers,
            device_commands::add_peer,
            deep_link::take_join_link,
            transport_bridge::transport_open,
            transport_bridge::transport_send,
            transport_bridge::transport_close,
            #[cfg(target_os = "linux")]
            native_engine::native_available,
            #[cfg(target_os = "linux")]
            native_engine::native_devices,
            #[cfg(target_os = "linux")]
            native_engine::native_create,
            #[cfg(target_os = "linux")]
            native_engine::native_create_channel,
            #[cfg(target_os = "linux")]
            native_engine::native_set_local_auto,
            #[cfg(target_os = "linux")]
            native_engine::native_set_local,
            #[cfg(target_os = "linux")]
            native_engine::native_set_remote,
            #[cfg(target_os = "linux")]
            native_engine::native_add_candidate,
            #[cfg(target_os = "linux")]
            native_engine::native_send_text,
            #[cfg(target_os = "linux")]
            native_engine::native_send_binary,
            #[cfg(target_os = "linux")]
            native_engine::native_set_sending,
            #[cfg(target_os = "linux")]
            native_engine::native_set_source,
            #[cfg(target_os = "linux")]
            native_engine::native_stats,
            #[cfg(target_os = "linux")]
            native_engine::native_close,
        ])
        .setup(move |app| {
            commands::manage_state(app.handle(), settings_file);
            app.manage(Arc::new(transport_bridge::Transports::default()));
            #[cfg(target_os = "linux")]
            app.manage(native_engine::NativeEngines::default());
            if let Some(node) = node {
                device_commands::start_node(app.handle(), node);
            }
            Ok(())
        })
}

/// SIGTERM (logout, service managers, tests) quits like closing the window, so the device
/// node still says goodbye; without this the process would just die.
#[cfg(all(unix, desktop))]
fn exit_on_sigterm<R: Runtime>(app: tauri::AppHandle<R>) {
    use tokio::signal::unix::{SignalKind, signal};
    tauri::async_runtime::spawn(async move {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                if term.recv().await.is_some() {
                    tracing::info!("SIGTERM: quitting");
                    app.exit(0);
                }
            }
            Err(error) => tracing::warn!(%error, "cannot watch SIGTERM"),
        }
    });
}

/// Injects the feature probe into every page and configures each native webview.
fn webview_plugin<R: Runtime>(mock_media: bool) -> TauriPlugin<R> {
    tauri::plugin::Builder::new("parley-webview")
        .js_init_script(webview::FEATURE_PROBE_SCRIPT.to_owned())
        .on_webview_ready(move |webview| {
            let dev_url = webview.config().build.dev_url.clone();
            let allowed = webview::app_origins(dev_url.as_ref());
            configure_native_webview(&webview, allowed, mock_media);
        })
        .build()
}

#[cfg(target_os = "linux")]
fn configure_native_webview<R: Runtime>(
    webview: &tauri::Webview<R>,
    allowed: Vec<url::Url>,
    mock_media: bool,
) {
    let result = webview.with_webview(move |platform| {
        webview::linux::configure(&platform.inner(), allowed, mock_media);
    });
    if let Err(error) = result {
        tracing::warn!(%error, "could not configure the webview for calls");
    }
}

#[cfg(not(target_os = "linux"))]
fn configure_native_webview<R: Runtime>(
    _webview: &tauri::Webview<R>,
    _allowed: Vec<url::Url>,
    _mock_media: bool,
) {
    // Other platforms' webviews ship WebRTC; their permission prompts are the OS's own.
}

/// Starts the app and blocks until it quits.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    init_logging();
    // Incoming calls while the window is in the background; the UI sends the notification.
    let builder = tauri::Builder::default().plugin(tauri_plugin_notification::init());
    #[cfg(desktop)]
    let builder = desktop::add_plugins(builder);
    let app = match build(builder, Options::from_env()).build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(error) => {
            tracing::error!(%error, "Parley could not start");
            eprintln!("parley: {error}");
            std::process::exit(1);
        }
    };
    #[cfg(all(unix, desktop))]
    exit_on_sigterm(app.handle().clone());
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            // Goodbye packets and the server's `bye` go out before the process ends.
            device_commands::stop_node(app);
            if let Some(transports) = app.try_state::<Arc<transport_bridge::Transports>>() {
                tauri::async_runtime::block_on(transports.shutdown());
            }
        }
    });
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Logs go to stderr, which launchers (and WebKitWebDriver in the app tests) pass on.
    // Ignored when a subscriber is already set (e.g. the mobile host installed one).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn close_transports_of<R: Runtime>(app: &tauri::AppHandle<R>, webview: &str) {
    if let Some(transports) = app.try_state::<Arc<transport_bridge::Transports>>() {
        transports.close_for_webview(webview);
    }
}

/// Focuses the main window: a second launch, or an incoming call while hidden.
pub fn show_main_window<R: Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

#[cfg(test)]
#[path = "added_devices_tests.rs"]
mod added_devices_tests;
#[cfg(test)]
#[path = "app_tests.rs"]
mod app_tests;
