use super::*;
use serde_json::json;

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn defaults_are_valid_and_safe() {
    let settings = Settings::default();
    assert_eq!(settings.problems(), Vec::new());
    assert!(!settings.auto_answer, "auto-answer must start off");
    assert!(settings.discoverable);
    assert!(!settings.display_name.trim().is_empty());
    assert_ne!(
        Settings::default().device_id,
        settings.device_id,
        "ids are random"
    );
}

#[test]
fn stun_starts_at_the_public_default_and_an_emptied_list_stays_empty() {
    let defaults = Settings::default();
    assert_eq!(
        defaults.stun_servers,
        [
            "stun:stun.l.google.com:19302",
            "stun:stun.cloudflare.com:3478"
        ]
    );
    // A file from before the default, or a first start, gets it.
    let missing = object(json!({ "deviceId": "0b6f7c523f0e4a539d1e2f4f3a0c9b11" }));
    let repaired = Settings::repair(&missing, &defaults);
    assert_eq!(repaired.settings.stun_servers, defaults.stun_servers);
    // The user's own choice wins, including "none".
    for chosen in [json!([]), json!(["stun:stun.example.org:3478"])] {
        let stored = object(json!({ "schemaVersion": 1, "stunServers": chosen.clone() }));
        let repaired = Settings::repair(&stored, &defaults);
        assert_eq!(json!(repaired.settings.stun_servers), chosen);
    }
}

#[test]
fn stun_default_matches_the_browser_ui() {
    // The browser keeps its own settings; both must start from the same servers.
    let ui = include_str!("../../ui/src/app/settings.ts");
    let expected = format!(
        "export const DEFAULT_STUN = \"{}\";",
        DEFAULT_STUN_SERVERS.join(", ")
    );
    assert!(ui.contains(&expected), "settings.ts lacks `{expected}`");
}

#[test]
fn first_start_keeps_defaults_and_asks_to_save() {
    let defaults = Settings::default();
    let repaired = Settings::repair(&Map::new(), &defaults);
    assert_eq!(repaired.settings, defaults);
    assert!(repaired.warnings.is_empty());
    assert!(repaired.needs_save, "a new device id must be persisted");
}

#[test]
fn stored_settings_round_trip_without_changes() {
    let settings = Settings {
        display_name: "Kitchen laptop".into(),
        language: Some("pt-BR".into()),
        stun_servers: vec!["stun:stun.example.org:3478".into()],
        turn_servers: vec![TurnServer {
            urls: vec!["turns:turn.example.org:5349".into()],
            username: "u".into(),
            credential: "p".into(),
        }],
        server_url: Some("wss://rooms.example.org".into()),
        ..Settings::default()
    };
    let repaired = Settings::repair(&settings.to_stored(), &Settings::default());
    assert_eq!(repaired.settings, settings);
    assert!(repaired.warnings.is_empty());
    assert!(!repaired.needs_save);
}

#[test]
fn old_file_without_new_fields_keeps_what_it_has() {
    // As a version before languages and TURN existed would have written it.
    let stored = object(json!({
        "deviceId": "0b6f7c523f0e4a539d1e2f4f3a0c9b11",
        "displayName": "Old name",
        "discoverable": false
    }));
    let defaults = Settings::default();
    let repaired = Settings::repair(&stored, &defaults);
    assert_eq!(
        repaired.settings.device_id,
        "0b6f7c523f0e4a539d1e2f4f3a0c9b11"
    );
    assert_eq!(repaired.settings.display_name, "Old name");
    assert!(!repaired.settings.discoverable);
    assert_eq!(repaired.settings.language, None);
    assert!(repaired.warnings.is_empty());
    assert!(repaired.needs_save);
}

#[test]
fn wrong_types_and_invalid_values_are_reset_one_by_one_with_warnings() {
    let stored = object(json!({
        "schemaVersion": 1,
        "deviceId": "not-a-uuid",
        "displayName": 42,
        "discoverable": "yes",
        "autoAnswer": true,
        "stunServers": ["http://wrong.example"],
        "serverUrl": "ftp://x",
        "language": "fr"
    }));
    let defaults = Settings::default();
    let repaired = Settings::repair(&stored, &defaults);
    let s = &repaired.settings;
    assert_eq!(s.problems(), Vec::new());
    assert_eq!(s.device_id, defaults.device_id);
    assert_eq!(s.display_name, defaults.display_name);
    assert!(s.discoverable);
    assert!(s.auto_answer, "a good field survives beside bad ones");
    assert_eq!(s.language.as_deref(), Some("fr"));
    assert_eq!(s.stun_servers, defaults.stun_servers);
    assert_eq!(s.server_url, None);
    for field in [
        "deviceId",
        "displayName",
        "discoverable",
        "stunServers",
        "serverUrl",
    ] {
        assert!(
            repaired.warnings.iter().any(|w| w.contains(field)),
            "no warning for {field}: {:?}",
            repaired.warnings
        );
    }
    assert_eq!(repaired.warnings.len(), 5);
    assert!(repaired.needs_save);
}

#[test]
fn unknown_keys_are_dropped_on_next_save() {
    let mut stored = Settings::default().to_stored();
    stored.insert("removedFeature".into(), json!(true));
    let repaired = Settings::repair(&stored, &Settings::default());
    assert!(repaired.needs_save);
    assert!(repaired.warnings.is_empty());
}

#[test]
fn validate_names_the_bad_field() {
    let mut settings = Settings {
        display_name: "   ".into(),
        ..Settings::default()
    };
    assert_eq!(settings.validate().map_err(|e| e.field), Err("displayName"));
    settings.display_name = "x".repeat(65);
    assert_eq!(settings.validate().map_err(|e| e.field), Err("displayName"));
    settings.display_name = "ok".into();
    settings.turn_servers = vec![TurnServer {
        urls: vec![],
        username: String::new(),
        credential: String::new(),
    }];
    assert_eq!(settings.validate().map_err(|e| e.field), Err("turnServers"));
    settings.turn_servers.clear();
    settings.language = Some("en_US".into());
    assert_eq!(settings.validate().map_err(|e| e.field), Err("language"));
}

#[test]
fn default_display_name_is_usable() {
    let name = default_display_name();
    assert!(check_display_name(&name).is_ok(), "{name:?}");
}
