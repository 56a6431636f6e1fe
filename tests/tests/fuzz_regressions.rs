//! Inputs the fuzz targets (`fuzz/`) once failed on, kept as ordinary tests.

use telemetry_core::__private::internals::state::{InstallState, STATE_FILE_NAME, StateStore};

/// fuzz/state_file, 2026-11-30: an unknown key holding a number too large for an integer was
/// read as the nearest float, and every rewrite of the file moved it by one ulp (serde_json's
/// fast float parser is not exact without `float_roundtrip`). Unknown keys are kept on every
/// write, so they must survive rewrites unchanged.
#[test]
fn huge_number_under_an_unknown_key_survives_rewrites() {
    let input = br#"{"":188888888888888888888888888888888888888888}"#;
    let state: InstallState = serde_json::from_slice(input).unwrap();
    let text = serde_json::to_string(&state).unwrap();
    let again: InstallState = serde_json::from_str(&text).unwrap();
    assert_eq!(again, state);

    let dir =
        std::env::temp_dir().join(format!("telemetry-fuzz-regression-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(STATE_FILE_NAME), input).unwrap();
    let first = StateStore::open(&dir).state().extra[""].clone();
    for _ in 0..3 {
        let store = StateStore::open(&dir);
        store.update(|s| s.last_version = Some("1.0.0".into()));
    }
    assert_eq!(StateStore::open(&dir).state().extra[""], first);
    let _ = std::fs::remove_dir_all(&dir);
}
