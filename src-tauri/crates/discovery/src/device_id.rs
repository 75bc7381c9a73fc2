//! The stable device id: random once, then persisted in the data directory.

use std::fs;
use std::io;
use std::path::Path;

use crate::DiscoveryError;

/// File name of the id inside the data directory.
const ID_FILE: &str = "device-id";

/// A fresh random device id: 128 bits as 32 lowercase hex digits.
pub fn new_device_id() -> Result<String, DiscoveryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| DiscoveryError::DeviceId(io::Error::other(e.to_string())))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Reads the device id stored in `data_dir`, or creates and stores a new one.
///
/// A file whose content is not a plausible id (empty, too long, odd characters) is replaced,
/// so a corrupted file costs the device its identity once instead of breaking discovery.
pub fn load_or_create_device_id(data_dir: &Path) -> Result<String, DiscoveryError> {
    let path = data_dir.join(ID_FILE);
    match fs::read_to_string(&path) {
        Ok(text) if is_plausible_id(text.trim()) => return Ok(text.trim().to_owned()),
        Ok(_) => tracing::warn!(path = %path.display(), "device id file is invalid; replacing it"),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(DiscoveryError::DeviceId(e)),
    }
    fs::create_dir_all(data_dir).map_err(DiscoveryError::DeviceId)?;
    let id = new_device_id()?;
    // Write then rename, so a crash mid-write never leaves a half id behind.
    let tmp = data_dir.join(format!("{ID_FILE}.tmp"));
    fs::write(&tmp, format!("{id}\n")).map_err(DiscoveryError::DeviceId)?;
    fs::rename(&tmp, &path).map_err(DiscoveryError::DeviceId)?;
    Ok(id)
}

fn is_plausible_id(id: &str) -> bool {
    (8..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn id_is_created_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_device_id(dir.path()).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(load_or_create_device_id(dir.path()).unwrap(), first);
    }

    #[test]
    fn a_corrupt_id_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(ID_FILE), "not an id!\n").unwrap();
        let id = load_or_create_device_id(dir.path()).unwrap();
        assert!(is_plausible_id(&id));
        assert_eq!(
            fs::read_to_string(dir.path().join(ID_FILE)).unwrap().trim(),
            id
        );
    }

    #[test]
    fn the_data_dir_is_created_if_missing() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let id = load_or_create_device_id(&nested).unwrap();
        assert_eq!(load_or_create_device_id(&nested).unwrap(), id);
    }

    #[test]
    fn fresh_ids_differ() {
        assert_ne!(new_device_id().unwrap(), new_device_id().unwrap());
    }
}
