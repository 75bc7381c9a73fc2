//! Persists [`Settings`] with tauri-plugin-store, one JSON key per field.
//!
//! The store plugin silently starts empty when its file is not valid JSON, which would lose the
//! device id without a word; so the file is checked first, and a damaged one is kept aside as
//! `<name>.corrupt` and reported before the store takes over.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::{StoreBuilder, resolve_store_path};

use crate::settings::{InvalidField, Repaired, Settings};

/// Store file name, relative to the app data directory (absolute paths are used as they are).
pub const DEFAULT_SETTINGS_FILE: &str = "settings.json";

/// Why settings could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The store plugin failed (path resolution, serialization, disk).
    #[error("settings store: {0}")]
    Store(#[from] tauri_plugin_store::Error),
    /// Reading or moving the settings file failed.
    #[error("settings file {path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The settings offered for saving are not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidField),
}

/// Loads settings, repairing whatever is damaged, and writes them back when repair changed
/// anything (so a new device id survives the next start).
pub fn load<R: Runtime>(app: &AppHandle<R>, file: &Path) -> Result<Repaired, SettingsError> {
    let path = resolve_store_path(app, file)?;
    let mut early_warnings = Vec::new();
    if let Some(warning) = set_aside_if_corrupt(&path)? {
        early_warnings.push(warning);
    }

    let store = StoreBuilder::new(app, path).disable_auto_save().build()?;
    let stored: Map<String, Value> = store.entries().into_iter().collect();
    let mut repaired = Settings::repair(&stored, &Settings::default());
    if repaired.needs_save {
        write(app, file, &repaired.settings)?;
    }
    early_warnings.append(&mut repaired.warnings);
    repaired.warnings = early_warnings;
    for warning in &repaired.warnings {
        tracing::warn!(%warning, "settings repaired");
    }
    Ok(repaired)
}

/// Validates and saves settings; the file then holds exactly these fields.
pub fn save<R: Runtime>(
    app: &AppHandle<R>,
    file: &Path,
    settings: &Settings,
) -> Result<(), SettingsError> {
    settings.validate()?;
    write(app, file, settings)
}

fn write<R: Runtime>(
    app: &AppHandle<R>,
    file: &Path,
    settings: &Settings,
) -> Result<(), SettingsError> {
    let store = StoreBuilder::new(app, file).disable_auto_save().build()?;
    store.clear();
    for (key, value) in settings.to_stored() {
        store.set(key, value);
    }
    store.save()?;
    Ok(())
}

/// Moves a file that is not a JSON object to `<name>.corrupt`; returns a warning if it did.
fn set_aside_if_corrupt(path: &Path) -> Result<Option<String>, SettingsError> {
    let io_error = |source| SettingsError::Io {
        path: path.to_owned(),
        source,
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e)),
    };
    if serde_json::from_slice::<Map<String, Value>>(&bytes).is_ok() {
        return Ok(None);
    }
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(io_error)?;
    Ok(Some(format!(
        "settings file was damaged and was reset to defaults; the old file is at {}",
        aside.display()
    )))
}
