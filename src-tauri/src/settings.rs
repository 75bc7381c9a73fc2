//! The user's settings: one typed struct with serde defaults, validation, and repair of files
//! written by older versions or damaged on disk. No I/O here; `settings_store` persists it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ts_rs::TS;

/// Version of the on-disk layout; bump when a field changes meaning, not when one is added.
pub const SCHEMA_VERSION: u64 = 1;
/// Key under which the layout version is stored beside the fields.
pub const SCHEMA_KEY: &str = "schemaVersion";

const MAX_NAME_CHARS: usize = 64;
const MAX_DEVICE_CHOICE_CHARS: usize = 512;
const MAX_STUN_SERVERS: usize = 16;
const MAX_TURN_SERVERS: usize = 8;
/// Devices added by address that are remembered; adding another forgets the oldest.
pub const MAX_ADDED_DEVICES: usize = 32;
const MAX_ADDRESS_CHARS: usize = 262; // a 253-character host name, `:`, a port
const FALLBACK_NAME: &str = "Parley device";

/// Public STUN servers for internet calls until the user edits the list: two operators, so one
/// outage does not cost calls their server-reflexive candidates. LAN calls use none. Keep in
/// step with `DEFAULT_STUN` in ui/src/app/settings.ts (a test checks).
pub const DEFAULT_STUN_SERVERS: [&str; 2] = [
    "stun:stun.l.google.com:19302",
    "stun:stun.cloudflare.com:3478",
];

/// Everything the user can choose, as stored in `settings.json` (camelCase keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// Stable random id of this device, advertised over mDNS; never changes once stored.
    pub device_id: String,
    /// Name other devices see; defaults to the host name.
    pub display_name: String,
    /// UI language as a BCP 47 tag; `None` follows the system.
    pub language: Option<String>,
    /// Chosen camera (`MediaDeviceInfo.deviceId`); `None` is the system default.
    pub camera: Option<String>,
    /// Chosen microphone; `None` is the system default.
    pub microphone: Option<String>,
    /// Chosen speaker; `None` is the system default.
    pub speaker: Option<String>,
    /// Whether this device advertises itself on the LAN.
    pub discoverable: bool,
    /// STUN URLs (`stun:` or `stuns:`) for internet calls, after the server's own from
    /// `welcome`; starts as [`DEFAULT_STUN_SERVERS`], and an emptied list stays empty.
    pub stun_servers: Vec<String>,
    /// TURN relays for internet calls when no direct path exists.
    pub turn_servers: Vec<TurnServer>,
    /// Signaling server for internet rooms (`ws://`, `wss://`, `http://` or `https://`).
    pub server_url: Option<String>,
    /// Answer incoming calls without asking; off unless the user turns it on.
    pub auto_answer: bool,
    /// Devices added by address (`host:port` as typed), oldest first, listed again at every
    /// start. Only `add_peer` changes it; `save_settings` keeps the stored list.
    pub added_devices: Vec<String>,
}

/// One TURN relay with long-term credentials, as `RTCIceServer` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TurnServer {
    /// `turn:` or `turns:` URLs of the relay.
    pub urls: Vec<String>,
    /// Long-term credential user name.
    #[serde(default)]
    pub username: String,
    /// Long-term credential password.
    #[serde(default)]
    pub credential: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            device_id: new_device_id(),
            display_name: default_display_name(),
            language: None,
            camera: None,
            microphone: None,
            speaker: None,
            discoverable: true,
            stun_servers: DEFAULT_STUN_SERVERS.map(str::to_owned).to_vec(),
            turn_servers: Vec::new(),
            server_url: None,
            auto_answer: false,
            added_devices: Vec::new(),
        }
    }
}

/// A field that failed validation, named by its JSON key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting `{field}` is invalid: {reason}")]
pub struct InvalidField {
    /// JSON key of the field (camelCase).
    pub field: &'static str,
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

/// Result of reading settings from whatever was on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// Settings to use: every field valid.
    pub settings: Settings,
    /// One line per field that was missing, of the wrong type, or invalid and so reset.
    pub warnings: Vec<String>,
    /// True when the stored form differs from `settings` and should be rewritten.
    pub needs_save: bool,
}

impl Settings {
    /// Every invalid field with the reason; empty when the settings can be used as they are.
    pub fn problems(&self) -> Vec<InvalidField> {
        let mut found = Vec::new();
        let mut check = |field: &'static str, result: Result<(), String>| {
            if let Err(reason) = result {
                found.push(InvalidField { field, reason });
            }
        };
        check("deviceId", check_device_id(&self.device_id));
        check("displayName", check_display_name(&self.display_name));
        check("language", check_optional(&self.language, check_language));
        check("camera", check_optional(&self.camera, check_device_choice));
        check(
            "microphone",
            check_optional(&self.microphone, check_device_choice),
        );
        check(
            "speaker",
            check_optional(&self.speaker, check_device_choice),
        );
        check("stunServers", check_stun_servers(&self.stun_servers));
        check("turnServers", check_turn_servers(&self.turn_servers));
        check(
            "serverUrl",
            check_optional(&self.server_url, check_server_url),
        );
        check("addedDevices", check_added_devices(&self.added_devices));
        found
    }

    /// Accepts the settings as they are, or names the first invalid field.
    pub fn validate(&self) -> Result<(), InvalidField> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Builds valid settings from a stored map, keeping every good field and resetting the rest
    /// to `defaults` (which must be valid, e.g. `Settings::default()`).
    pub fn repair(stored: &Map<String, Value>, defaults: &Settings) -> Repaired {
        let mut warnings = Vec::new();
        let mut needs_save = stored.get(SCHEMA_KEY) != Some(&Value::from(SCHEMA_VERSION));
        let mut merged = to_map(defaults);

        let keys: Vec<String> = merged.keys().cloned().collect();
        for key in keys {
            let Some(value) = stored.get(&key) else {
                // Missing: a new field, or a first start. Not worth a warning, but persist it.
                needs_save = true;
                continue;
            };
            let mut trial = merged.clone();
            trial.insert(key.clone(), value.clone());
            if serde_json::from_value::<Settings>(Value::Object(trial)).is_ok() {
                merged.insert(key, value.clone());
            } else {
                warnings.push(format!(
                    "setting `{key}` had a value of the wrong type; reset"
                ));
                needs_save = true;
            }
        }
        if stored
            .keys()
            .any(|k| k != SCHEMA_KEY && !merged.contains_key(k))
        {
            needs_save = true;
        }

        let mut settings = from_map(merged).unwrap_or_else(|| defaults.clone());
        for problem in settings.problems() {
            warnings.push(format!("{problem}; reset"));
            settings = settings.with_field_from(problem.field, defaults);
            needs_save = true;
        }
        Repaired {
            settings,
            warnings,
            needs_save,
        }
    }

    /// The stored form: every field plus the layout version.
    pub fn to_stored(&self) -> Map<String, Value> {
        let mut map = to_map(self);
        map.insert(SCHEMA_KEY.to_owned(), Value::from(SCHEMA_VERSION));
        map
    }

    fn with_field_from(&self, field: &str, source: &Settings) -> Settings {
        let mut map = to_map(self);
        if let Some(value) = to_map(source).remove(field) {
            map.insert(field.to_owned(), value);
        }
        from_map(map).unwrap_or_else(|| source.clone())
    }
}

fn to_map(settings: &Settings) -> Map<String, Value> {
    match serde_json::to_value(settings) {
        Ok(Value::Object(map)) => map,
        // A struct of strings, bools and lists always serializes to an object.
        _ => Map::new(),
    }
}

fn from_map(map: Map<String, Value>) -> Option<Settings> {
    serde_json::from_value(Value::Object(map)).ok()
}

/// A fresh random device id: 128 random bits as 32 lowercase hex digits (the form the
/// discovery crate and `parley-node` use too).
pub fn new_device_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The host name, cleaned up to be a valid display name, or a generic name.
pub fn default_display_name() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let cleaned: String = host
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if cleaned.is_empty() || cleaned == "localhost" {
        FALLBACK_NAME.to_owned()
    } else {
        cleaned
    }
}

fn check_optional(
    value: &Option<String>,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<(), String> {
    value.as_deref().map_or(Ok(()), check)
}

fn check_device_id(id: &str) -> Result<(), String> {
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if id.len() == 32 && id.bytes().all(hex) {
        Ok(())
    } else {
        Err("must be 32 lowercase hex digits".to_owned())
    }
}

fn check_display_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("at most {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

fn check_language(tag: &str) -> Result<(), String> {
    let well_formed = !tag.is_empty()
        && tag.len() <= 35
        && tag.split('-').all(|part| {
            (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "`{tag}` is not a language tag like `en` or `pt-BR`"
        ))
    }
}

fn check_device_choice(id: &str) -> Result<(), String> {
    if id.len() > MAX_DEVICE_CHOICE_CHARS {
        Err(format!("at most {MAX_DEVICE_CHOICE_CHARS} characters"))
    } else {
        Ok(())
    }
}

fn check_stun_servers(urls: &[String]) -> Result<(), String> {
    if urls.len() > MAX_STUN_SERVERS {
        return Err(format!("at most {MAX_STUN_SERVERS} servers"));
    }
    urls.iter()
        .try_for_each(|url| check_ice_url(url, &["stun:", "stuns:"]))
}

fn check_added_devices(addresses: &[String]) -> Result<(), String> {
    if addresses.len() > MAX_ADDED_DEVICES {
        return Err(format!("at most {MAX_ADDED_DEVICES} devices"));
    }
    let bad = addresses.iter().find(|a| {
        a.is_empty()
            || a.len() > MAX_ADDRESS_CHARS
            || a.contains(|c: char| c.is_whitespace() || c.is_control())
    });
    match bad {
        Some(address) => Err(format!("`{address}` is not a host:port address")),
        None => Ok(()),
    }
}

impl Settings {
    /// Remembers a device added by `address`; true if the list changed. The newest is last, and
    /// the oldest is forgotten beyond [`MAX_ADDED_DEVICES`].
    pub fn remember_added_device(&mut self, address: &str) -> bool {
        let address = address.trim();
        if address.is_empty() || self.added_devices.iter().any(|a| a == address) {
            return false;
        }
        self.added_devices.push(address.to_owned());
        let excess = self.added_devices.len().saturating_sub(MAX_ADDED_DEVICES);
        self.added_devices.drain(..excess);
        true
    }
}

fn check_turn_servers(servers: &[TurnServer]) -> Result<(), String> {
    if servers.len() > MAX_TURN_SERVERS {
        return Err(format!("at most {MAX_TURN_SERVERS} servers"));
    }
    for server in servers {
        if server.urls.is_empty() {
            return Err("each TURN server needs at least one URL".to_owned());
        }
        server
            .urls
            .iter()
            .try_for_each(|url| check_ice_url(url, &["turn:", "turns:"]))?;
    }
    Ok(())
}

fn check_ice_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let rest = schemes.iter().find_map(|scheme| url.strip_prefix(scheme));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!("`{url}` must start with {}", schemes.join(" or "))),
    }
}

fn check_server_url(text: &str) -> Result<(), String> {
    let parsed = url::Url::parse(text).map_err(|e| format!("`{text}`: {e}"))?;
    let scheme_ok = matches!(parsed.scheme(), "ws" | "wss" | "http" | "https");
    if scheme_ok && parsed.host_str().is_some() {
        Ok(())
    } else {
        Err(format!(
            "`{text}` must be a ws://, wss://, http:// or https:// URL"
        ))
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
