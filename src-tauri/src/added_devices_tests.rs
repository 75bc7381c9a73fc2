//! Devices added by address are remembered and listed again after a restart.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::app_tests::{private_mdns_port, start_with_node};
use crate::device::{DeviceNode, NodeOptions};
use crate::settings::Settings;

/// Another device's node on loopback, on an mDNS port of its own so that only its address
/// can bring it into the app's list.
fn other_device(name: &str) -> (DeviceNode, Settings) {
    let settings = Settings {
        display_name: name.into(),
        discoverable: false,
        ..Default::default()
    };
    let options = NodeOptions {
        port: 0,
        mdns_port: private_mdns_port(),
        loopback_only: true,
    };
    let node = tauri::async_runtime::block_on(DeviceNode::start(&settings, options)).unwrap();
    (node, settings)
}

fn listed(app: &crate::app_tests::TestApp, id: &str) -> bool {
    let peers = app.invoke("list_peers", json!({})).unwrap();
    peers
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["id"] == json!(id))
}

#[test]
fn a_device_added_by_address_is_listed_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.json");
    let (other, other_settings) = other_device("Bureau");
    let address = format!("127.0.0.1:{}", other.owner_session().port);

    let app = start_with_node(&file, private_mdns_port());
    let added = app
        .invoke("add_peer", json!({ "address": format!(" {address} ") }))
        .unwrap();
    assert_eq!(added["name"], json!("Bureau"));
    assert_eq!(app.settings()["addedDevices"], json!([address]));

    // A settings save from the UI (which does not know the list) keeps it.
    let mut renamed = app.settings();
    renamed["displayName"] = json!("Renamed");
    renamed["addedDevices"] = json!([]);
    let saved: Value = app
        .invoke("save_settings", json!({ "settings": renamed }))
        .unwrap();
    assert_eq!(saved["addedDevices"], json!([address]));
    crate::device_commands::stop_node(app.app.handle());
    drop(app);

    let again = start_with_node(&file, private_mdns_port());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !listed(&again, &other_settings.device_id) {
        assert!(
            Instant::now() < deadline,
            "the remembered device was not listed again"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    crate::device_commands::stop_node(again.app.handle());
    tauri::async_runtime::block_on(other.shutdown());
}

#[test]
fn the_list_keeps_the_newest_devices_and_no_duplicates() {
    let mut settings = Settings::default();
    assert!(settings.remember_added_device("10.0.0.1:7878"));
    assert!(!settings.remember_added_device(" 10.0.0.1:7878 "));
    assert!(!settings.remember_added_device("  "));
    for i in 0..crate::settings::MAX_ADDED_DEVICES {
        settings.remember_added_device(&format!("10.0.1.{i}:7878"));
    }
    assert_eq!(
        settings.added_devices.len(),
        crate::settings::MAX_ADDED_DEVICES
    );
    assert!(!settings.added_devices.contains(&"10.0.0.1:7878".to_owned()));
    assert_eq!(settings.added_devices.last().unwrap(), "10.0.1.31:7878");
    assert!(settings.validate().is_ok());

    settings.added_devices.push("not an address".into());
    assert_eq!(settings.validate().unwrap_err().field, "addedDevices");
}

#[test]
fn hostile_remembered_addresses_are_refused_or_repaired() {
    let oversized = format!("{}:7878", "a".repeat(300));
    for bad in [oversized.as_str(), "host\u{0}:1", "", "two words:1"] {
        let settings = Settings {
            added_devices: vec![bad.to_owned()],
            ..Settings::default()
        };
        assert_eq!(
            settings.validate().unwrap_err().field,
            "addedDevices",
            "{bad:?}"
        );
    }
    // A file with a bad list keeps its other fields and starts with no remembered devices.
    let defaults = Settings::default();
    let mut stored = defaults.to_stored();
    stored.insert("displayName".into(), json!("Kept"));
    stored.insert("addedDevices".into(), json!([oversized]));
    let repaired = Settings::repair(&stored, &defaults);
    assert_eq!(repaired.settings.display_name, "Kept");
    assert!(repaired.settings.added_devices.is_empty());
    assert!(repaired.warnings.iter().any(|w| w.contains("addedDevices")));
    stored.insert("addedDevices".into(), json!("not a list"));
    assert!(
        Settings::repair(&stored, &defaults)
            .settings
            .added_devices
            .is_empty()
    );
}
