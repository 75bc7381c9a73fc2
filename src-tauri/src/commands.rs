//! Commands the UI invokes, the state behind them, and the events the backend emits.
//!
//! Names on the wire are snake_case commands with camelCase arguments (Tauri's default); events:
//! [`SETTINGS_CHANGED`] carries [`Settings`], [`MEDIA_ENGINE_CHANGED`] carries [`DeviceInfo`].

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use ts_rs::TS;

use crate::settings::Settings;
use crate::settings_store::{self, SettingsError};
use crate::webview::{MediaEngine, WebviewFeatures};

/// Event emitted after settings were saved; payload: the new [`Settings`].
pub const SETTINGS_CHANGED: &str = "settings-changed";
/// Event emitted when the webview reported its features; payload: [`DeviceInfo`].
pub const MEDIA_ENGINE_CHANGED: &str = "media-engine-changed";

/// The backend's state shared by all commands.
pub struct AppState {
    settings_file: PathBuf,
    settings: Mutex<Settings>,
    settings_warnings: Vec<String>,
    webview: Mutex<Option<WebviewFeatures>>,
}

impl AppState {
    /// State for settings loaded from `settings_file`, with the warnings repairing them gave.
    pub fn new(settings_file: PathBuf, settings: Settings, settings_warnings: Vec<String>) -> Self {
        Self {
            settings_file,
            settings: Mutex::new(settings),
            settings_warnings,
            webview: Mutex::new(None),
        }
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every value guarded
/// here is replaced whole, so it is never half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// This device as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "AppDeviceInfo")]
pub struct DeviceInfo {
    /// Stable device id (also in the mDNS TXT record).
    pub device_id: String,
    /// Name other devices see.
    pub display_name: String,
    /// `linux`, `windows`, `macos`, `android` or `ios`.
    pub platform: &'static str,
    /// App version from Cargo.toml.
    pub app_version: String,
    /// Signaling protocol version this build speaks.
    pub protocol_version: u32,
    /// What the webview reported, once it has.
    pub webview: Option<WebviewFeatures>,
    /// Engine calls will use.
    pub media_engine: MediaEngine,
    /// Problems found (and repaired) in the settings file at start-up, to show once.
    pub settings_warnings: Vec<String>,
}

/// An error as the UI receives it: a stable code to branch on and a message to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// `invalid-setting`, `storage`, `node-unavailable` or `add-peer-failed`.
    pub code: &'static str,
    /// Human-readable detail.
    pub message: String,
    /// The offending field's JSON key, for `invalid-setting`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<&'static str>,
}

impl From<SettingsError> for CommandError {
    fn from(error: SettingsError) -> Self {
        match error {
            SettingsError::Invalid(invalid) => Self {
                code: "invalid-setting",
                message: invalid.to_string(),
                field: Some(invalid.field),
            },
            other => Self {
                code: "storage",
                message: other.to_string(),
                field: None,
            },
        }
    }
}

/// Returns the current settings.
#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.settings()
}

/// Validates, saves and applies new settings; returns what was saved. The device id and the
/// devices added by address are not the UI's to change, so the stored ones are kept.
#[tauri::command]
pub fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    let new = update_settings(&app, &state, |current| {
        Some(Settings {
            device_id: current.device_id.clone(),
            added_devices: current.added_devices.clone(),
            ..settings
        })
    })?
    .unwrap_or_else(|| state.settings());
    if let Some(node) = app
        .try_state::<crate::device_commands::NodeState>()
        .and_then(|s| s.node())
    {
        let (app, settings) = (app.clone(), new.clone());
        tauri::async_runtime::spawn(async move {
            if let Err(error) = node.apply(&app, &settings).await {
                tracing::warn!(%error, "could not apply new settings to the device node");
            }
        });
    }
    Ok(new)
}

/// Stores a device just added by `address`, so the next start lists it again. A failure to
/// write is logged: the device is listed now either way.
pub fn remember_added_device<R: Runtime>(app: &AppHandle<R>, address: &str) {
    let state = app.state::<AppState>();
    let remembered = update_settings(app, &state, |current| {
        let mut settings = current.clone();
        settings.remember_added_device(address).then_some(settings)
    });
    if let Err(error) = remembered {
        tracing::warn!(%error, "could not remember the added device");
    }
}

/// Replaces the settings with what `change` makes of the current ones (`None`: nothing to
/// change), saved first and announced as [`SETTINGS_CHANGED`]; returns the new settings. The
/// lock is held across the write, so concurrent changes (a save from the UI, a device added)
/// cannot undo each other.
fn update_settings<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    change: impl FnOnce(&Settings) -> Option<Settings>,
) -> Result<Option<Settings>, SettingsError> {
    let new = {
        let mut current = lock(&state.settings);
        let Some(new) = change(&current) else {
            return Ok(None);
        };
        settings_store::save(app, &state.settings_file, &new)?;
        *current = new.clone();
        new
    };
    // A rename or discoverability change reaches the network through this event's listeners.
    if let Err(error) = app.emit(SETTINGS_CHANGED, &new) {
        tracing::warn!(%error, "could not announce new settings");
    }
    Ok(Some(new))
}

/// Describes this device and its media capabilities.
#[tauri::command]
pub fn device_info<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>) -> DeviceInfo {
    build_device_info(&app, &state)
}

/// Called by the page's feature probe (see `webview::FEATURE_PROBE_SCRIPT`).
#[tauri::command]
pub fn report_webview_features<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    features: WebviewFeatures,
) {
    *lock(&state.webview) = Some(features);
    let info = build_device_info(&app, &state);
    tracing::info!(?features, engine = ?info.media_engine, "webview features");
    if let Err(error) = app.emit(MEDIA_ENGINE_CHANGED, &info) {
        tracing::warn!(%error, "could not announce the media engine");
    }
}

/// Called by the page's feature probe on its first contentful paint; only logged, for the
/// start-up benchmark (scripts/bench-app.sh reads the log line's time).
#[tauri::command]
pub fn report_first_paint(since_navigation_ms: f64) {
    tracing::info!(since_navigation_ms, "first contentful paint");
}

fn build_device_info<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> DeviceInfo {
    let settings = state.settings();
    let webview = *lock(&state.webview);
    DeviceInfo {
        device_id: settings.device_id,
        display_name: settings.display_name,
        platform: std::env::consts::OS,
        app_version: app.package_info().version.to_string(),
        protocol_version: parley_protocol::PROTOCOL_VERSION,
        webview,
        media_engine: MediaEngine::choose(webview),
        settings_warnings: state.settings_warnings.clone(),
    }
}

/// Registers the state for settings in `settings_file`, loading and repairing them. When the
/// file cannot be read or written at all (permissions, full disk), the app still starts, on
/// defaults, and says so in `settingsWarnings`.
pub fn manage_state<R: Runtime>(app: &AppHandle<R>, settings_file: PathBuf) {
    let (settings, warnings) = match settings_store::load(app, &settings_file) {
        Ok(loaded) => (loaded.settings, loaded.warnings),
        Err(error) => {
            tracing::error!(%error, "settings unavailable; using defaults");
            let warning = format!("settings could not be loaded ({error}); using defaults");
            (Settings::default(), vec![warning])
        }
    };
    app.manage(AppState::new(settings_file, settings, warnings));
}

/// Draws the user to the app for an incoming call: shows, unminimizes and focuses the main
/// window and, if it was not focused, asks the desktop to flag it (taskbar urgency). Returns
/// whether the window had been in the background.
#[tauri::command]
pub fn request_attention<R: Runtime>(app: AppHandle<R>) -> bool {
    let Some(window) = app.get_webview_window("main") else {
        return false;
    };
    let was_background =
        !window.is_focused().unwrap_or(false) || !window.is_visible().unwrap_or(true);
    crate::show_main_window(&app);
    #[cfg(desktop)]
    if was_background {
        let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
    }
    was_background
}
