//! The install state when its files misbehave: corrupt or wrongly typed files, unwritable
//! directories, a file deleted while running, a lock held by another process, links planted
//! where the state is written. Each degrades with a warning and never panics.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::time::{Duration, Instant};

use telemetry_core::__private::internals::state::{Consent, StateStore};

mod common {
    pub mod state;
    pub mod warnings;
}
use common::state::{is_lower_hex, read_json};
use common::warnings::Warnings;

// ---------------------------------------------------------------------------------------------
// Faults

#[test]
fn corrupt_file_is_moved_aside_replaced_and_warned_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("install.json");
    fs::write(&path, b"{\"install_id\": \"abc\", \"salt\": ").unwrap();

    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(dir.path()));

    let messages = warnings.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("corrupt"), "{messages:?}");
    assert!(store.is_persistent());

    // Replaced by a valid fresh state...
    let file = read_json(&path);
    assert!(is_lower_hex(file["salt"].as_str().unwrap(), 64));
    assert_ne!(file["install_id"], "abc");
    assert_eq!(
        file["install_id"].as_str().unwrap(),
        store.state().install_id
    );

    // ...and the bad file kept next to it, byte for byte.
    let aside: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("install.json.corrupt-")
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(messages[0].contains(&*aside[0].file_name().unwrap().to_string_lossy()));
    assert_eq!(
        fs::read(&aside[0]).unwrap(),
        b"{\"install_id\": \"abc\", \"salt\": "
    );

    // Reopening is quiet now.
    let again = Warnings::default();
    again.capture(|| StateStore::open(dir.path()));
    assert!(again.messages().is_empty(), "{:?}", again.messages());
}

#[test]
fn wrongly_typed_file_counts_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("install.json"), b"[1, 2, 3]").unwrap();
    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(dir.path()));
    assert_eq!(warnings.messages().len(), 1);
    assert!(store.is_persistent());
    assert_eq!(store.state().salt.as_bytes().len(), 32);
}

#[test]
fn uncreatable_dir_degrades_to_memory() {
    // A directory under a regular file can never be created, not even by root.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    fs::write(&file, b"not a directory").unwrap();
    let state_dir = file.join("sub");

    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(&state_dir));
    let messages = warnings.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("in memory"), "{messages:?}");
    assert!(!store.is_persistent());
    assert_eq!(store.path(), state_dir.join("install.json"));

    // Still fully usable, in memory, without further warnings.
    let id = store.state().distinct_id();
    assert!(is_lower_hex(&id, 64));
    warnings.capture(|| {
        store.update(|s| s.consent = Some(Consent::new(true, "api", chrono::Utc::now())));
        store.forget();
    });
    assert_eq!(store.state().consent.map(|c| c.enabled), Some(true));
    assert_ne!(store.state().distinct_id(), id);
    assert_eq!(warnings.messages().len(), 1);
    assert!(!state_dir.exists());
}

/// Whether permission bits stop this process from writing (they do not for root).
#[cfg(unix)]
fn permissions_are_enforced(dir: &Path) -> bool {
    let probe = dir.join("probe");
    match fs::write(&probe, b"x") {
        Ok(()) => {
            let _ = fs::remove_file(probe);
            false
        }
        Err(_) => true,
    }
}

#[cfg(unix)]
#[test]
fn read_only_dir_degrades_to_memory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
    if !permissions_are_enforced(&ro) {
        eprintln!(
            "running as root: chmod does not stop writes; covered by uncreatable_dir_degrades_to_memory"
        );
        return;
    }
    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(&ro));
    assert_eq!(warnings.messages().len(), 1, "{:?}", warnings.messages());
    assert!(!store.is_persistent());
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o700)).unwrap();
}

#[cfg(unix)]
#[test]
fn read_only_dir_with_a_state_uses_it_in_memory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    let seeded = StateStore::open(&ro);
    seeded.update(|s| s.consent = Some(Consent::new(true, "setup", chrono::Utc::now())));
    let expected = seeded.state();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).unwrap();
    if !permissions_are_enforced(&ro) {
        eprintln!("running as root: chmod does not stop writes; skipped");
        return;
    }
    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(&ro));
    assert_eq!(store.state(), expected);
    assert!(!store.is_persistent());
    assert_eq!(warnings.messages().len(), 1, "{:?}", warnings.messages());
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o700)).unwrap();
}

#[test]
fn file_deleted_while_running_is_recreated_with_the_same_identity() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    let id = store.state().distinct_id();
    fs::remove_file(store.path()).unwrap();
    store.update(|s| s.last_version = Some("1.0.0".into()));
    let again = StateStore::open(dir.path());
    assert_eq!(again.state().distinct_id(), id);
    assert_eq!(again.state().last_version.as_deref(), Some("1.0.0"));
}

#[test]
fn a_held_lock_delays_an_update_boundedly_then_writes_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    // Another "process" holds the lock and never lets go (flock locks conflict between
    // separately opened files, also within one process).
    let holder = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join("install.json.lock"))
        .unwrap();
    holder.lock().unwrap();

    let warnings = Warnings::default();
    let started = Instant::now();
    warnings.capture(|| store.update(|s| s.last_version = Some("2.0.0".into())));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    warnings.capture(|| store.update(|s| s.last_version = Some("2.0.1".into())));
    let messages = warnings.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("without the lock"), "{messages:?}");
    assert_eq!(read_json(store.path())["last_version"], "2.0.1");
    holder.unlock().unwrap();

    // Once released, updates lock normally again.
    let started = Instant::now();
    store.update(|s| s.last_version = Some("2.0.2".into()));
    assert!(started.elapsed() < Duration::from_secs(1));
}

// --- Corrupt files and consent (issue 9) ------------------------------------------------------

#[test]
fn a_corrupt_file_keeps_a_readable_opt_out() {
    for corrupt in [
        // Valid JSON, a bad field elsewhere.
        &br#"{"salt": "zz", "consent": {"enabled": false, "decided_at": "2026-01-01T00:00:00Z", "source": "admin"}}"#[..],
        // Truncated mid-file.
        br#"{"install_id": "x", "consent": { "enabled" : false, "decided_at": "2026-01-"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("install.json"), corrupt).unwrap();
        let state = StateStore::open(dir.path()).state();
        assert_eq!(state.consent.as_ref().map(|c| c.enabled), Some(false), "{state:?}");
        assert!(!state.consent_lost);
        // And it is on disk for the next start.
        let again = StateStore::open(dir.path()).state();
        assert_eq!(again.consent.map(|c| c.enabled), Some(false));
    }
}

#[test]
fn a_corrupt_file_without_a_readable_opt_out_loses_the_consent() {
    for corrupt in [
        &b"\x00\xff garbage"[..],
        br#"{"consent": {"enabled": true, "decided_at": "#,
        br#"{"consent": {"enabled": "#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("install.json"), corrupt).unwrap();
        let store = StateStore::open(dir.path());
        let state = store.state();
        assert!(state.consent.is_none() && state.consent_lost, "{state:?}");
        assert!(
            StateStore::open(dir.path()).state().consent_lost,
            "persisted: still off at the next start"
        );
        // A decision clears it.
        store.update(|s| s.record_consent(Consent::new(true, "admin", chrono::Utc::now())));
        assert!(!StateStore::open(dir.path()).state().consent_lost);
    }
}

// --- Files on disk ------------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn state_files_are_owner_only_and_never_written_through_a_symlink() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let state_dir = dir.path().join("state");
    std::fs::create_dir(&state_dir).unwrap();
    // Links planted at both paths the store writes.
    symlink(&victim, state_dir.join("install.json")).unwrap();
    symlink(&victim, state_dir.join("install.json.lock")).unwrap();

    let store = StateStore::open(&state_dir);
    store.update(|s| s.last_version = Some("1.0.0".into()));

    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let mode =
        |p: &std::path::Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&victim), 0o644, "the link target's mode is untouched");
    let file = state_dir.join("install.json");
    assert!(
        std::fs::symlink_metadata(&file)
            .unwrap()
            .file_type()
            .is_file(),
        "replaced, not followed"
    );
    assert_eq!(mode(&file), 0o600);

    // A fresh directory: the directory 0700, the state and the lock file 0600.
    let fresh = dir.path().join("fresh/nested");
    let _store = StateStore::open(&fresh);
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("install.json")), 0o600);
    assert_eq!(mode(&fresh.join("install.json.lock")), 0o600);
}
