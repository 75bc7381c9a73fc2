//! The UI's protocol types must equal what this crate generates.
//! Regenerate with `PARLEY_UPDATE_TS=1 cargo test -p parley-protocol --test ts_bindings`.

use std::path::PathBuf;

#[test]
fn checked_in_typescript_matches_the_rust_types() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../ui/src/protocol/generated.ts");
    let fresh = parley_protocol::typescript_bindings();
    if std::env::var_os("PARLEY_UPDATE_TS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "{} is stale: run `make protocol-ts` and commit the result",
        path.display()
    );
}
