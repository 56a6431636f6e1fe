//! The install state on real files: creation, merge-on-write, concurrent writers in two
//! processes, `forget`, the fingerprint built from it, and `Debug` output without secrets.
//! Faults (corrupt files, unwritable directories, held locks, links) are in `state_faults.rs`.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use telemetry_core::__private::internals::fingerprint;
use telemetry_core::__private::internals::state::{Consent, StateStore, effective_salt};

mod common {
    pub mod state;
    pub mod warnings;
}
use common::state::{is_lower_hex, read_json};
use common::warnings::Warnings;

fn counter(state: &serde_json::Map<String, Value>, key: &str) -> u64 {
    state.get(key).and_then(Value::as_u64).unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// Creation and reopening

#[test]
fn fresh_state_is_created_and_stable_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("nested").join("state");
    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(&state_dir));
    assert!(warnings.messages().is_empty(), "{:?}", warnings.messages());
    assert!(store.is_persistent());
    assert_eq!(store.path(), state_dir.join("install.json"));

    let file = read_json(store.path());
    assert_eq!(file["schema_version"], 1);
    assert!(is_lower_hex(file["salt"].as_str().unwrap(), 64), "{file}");
    let install_id = file["install_id"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(install_id).unwrap().get_version_num(),
        4
    );
    for key in [
        "consent",
        "last_version",
        "install_sent_at",
        "update_sent_at",
        "health_sent_at",
    ] {
        assert_eq!(file[key], Value::Null, "{key}");
    }

    let state = store.state();
    assert_eq!(state.install_id, install_id);
    assert_eq!(state.salt.as_bytes().len(), 32);

    // Reopening reads the same state and does not rewrite the file.
    let before = fs::read(store.path()).unwrap();
    let again = StateStore::open(&state_dir);
    assert_eq!(again.state(), state);
    assert_eq!(fs::read(store.path()).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn state_file_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    let mode = fs::metadata(store.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn writes_leave_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    for i in 0..5 {
        store.update(|s| s.last_version = Some(format!("1.0.{i}")));
    }
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["install.json", "install.json.lock"]);
}

#[test]
fn missing_identity_in_a_readable_file_is_filled_in() {
    // An operator may pre-seed consent and nothing else.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("install.json");
    fs::write(
        &path,
        r#"{"consent": {"enabled": true, "decided_at": "2026-01-01T00:00:00Z", "source": "provisioning"}}"#,
    )
    .unwrap();
    let warnings = Warnings::default();
    let store = warnings.capture(|| StateStore::open(dir.path()));
    assert!(warnings.messages().is_empty(), "{:?}", warnings.messages());
    let state = store.state();
    assert_eq!(state.consent.as_ref().unwrap().source, "provisioning");
    let file = read_json(&path);
    assert_eq!(file["install_id"].as_str().unwrap(), state.install_id);
    assert!(is_lower_hex(file["salt"].as_str().unwrap(), 64));
    assert_eq!(file["consent"]["enabled"], true);
}

// ---------------------------------------------------------------------------------------------
// Merging

#[test]
fn merge_on_write_keeps_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());

    // A newer version (or another tool) adds keys with a raw edit, after this store was opened.
    let path = store.path().to_path_buf();
    let mut file = read_json(&path);
    file["setup_complete"] = json!(true);
    file["future"] = json!({"nested": [1, 2, 3]});
    file["consent"] = json!({
        "enabled": false, "decided_at": "2026-02-03T04:05:06Z", "source": "admin", "note": "kept too"
    });
    fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();

    store.update(|s| s.last_version = Some("1.2.3".into()));

    let after = read_json(&path);
    assert_eq!(after["setup_complete"], true);
    assert_eq!(after["future"], json!({"nested": [1, 2, 3]}));
    assert_eq!(after["consent"]["enabled"], false);
    assert_eq!(after["consent"]["note"], "kept too");
    assert_eq!(after["last_version"], "1.2.3");
    // The cached state reflects what was merged.
    assert_eq!(store.state().extra["setup_complete"], true);
}

#[test]
fn two_stores_in_one_process_do_not_drop_each_others_changes() {
    let dir = tempfile::tempdir().unwrap();
    let a = StateStore::open(dir.path());
    let b = StateStore::open(dir.path());
    a.update(|s| s.consent = Some(Consent::new(true, "setup", chrono::Utc::now())));
    // `b` never saw the consent, but its update starts from the file.
    b.update(|s| s.last_version = Some("9.9.9".into()));
    let file = read_json(a.path());
    assert_eq!(file["consent"]["enabled"], true);
    assert_eq!(file["last_version"], "9.9.9");
    assert_eq!(a.reload(), b.state());
}

#[test]
fn concurrent_threads_lose_no_updates() {
    let dir = tempfile::tempdir().unwrap();
    let stores: Vec<_> = (0..4).map(|_| StateStore::open(dir.path())).collect();
    std::thread::scope(|scope| {
        for (i, store) in stores.iter().enumerate() {
            scope.spawn(move || {
                for _ in 0..25 {
                    store.update(|s| {
                        let key = format!("thread_{i}");
                        let n = counter(&s.extra, &key);
                        s.extra.insert(key, json!(n + 1));
                        let total = counter(&s.extra, "total");
                        s.extra.insert("total".into(), json!(total + 1));
                    });
                }
            });
        }
    });
    let file = read_json(&dir.path().join("install.json"));
    for i in 0..4 {
        assert_eq!(file[format!("thread_{i}")], 25);
    }
    assert_eq!(file["total"], 100);
}

const CHILD_DIR_ENV: &str = "TELEMETRY_STATE_TEST_CHILD_DIR";
const UPDATES_PER_PROCESS: u64 = 200;

fn increment(store: &StateStore, key: &str) {
    store.update(|s| {
        let n = counter(&s.extra, key);
        s.extra.insert(key.to_owned(), json!(n + 1));
        let total = counter(&s.extra, "total");
        s.extra.insert("total".to_owned(), json!(total + 1));
    });
}

/// Two processes (this test binary, re-executed as the child) share one state dir, each doing
/// 200 read-modify-write updates of its own counter and of a shared total.
#[test]
fn concurrent_writers_in_two_processes() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        // The child's part.
        let store = StateStore::open(dir);
        for _ in 0..UPDATES_PER_PROCESS {
            increment(&store, "child");
        }
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    store.update(|s| {
        s.extra.insert("marker".into(), json!("kept"));
    });

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "concurrent_writers_in_two_processes",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Start once the child is writing, so the two really overlap.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !store.reload().extra.contains_key("child")
        && child.try_wait().unwrap().is_none()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }

    let warnings = Warnings::default();
    warnings.capture(|| {
        for _ in 0..UPDATES_PER_PROCESS {
            increment(&store, "parent");
        }
    });

    let output = child.wait_with_output().unwrap();
    let child_stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        child_stderr
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "the child did not run the test: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(warnings.messages().is_empty(), "{:?}", warnings.messages());
    assert!(!child_stderr.contains("warning"), "{child_stderr}");

    let file = read_json(&dir.path().join("install.json"));
    let object = file.as_object().unwrap();
    assert_eq!(counter(object, "parent"), UPDATES_PER_PROCESS, "{file}");
    assert_eq!(counter(object, "child"), UPDATES_PER_PROCESS, "{file}");
    assert_eq!(counter(object, "total"), 2 * UPDATES_PER_PROCESS, "{file}");
    assert_eq!(file["marker"], "kept");
    assert_eq!(
        file["install_id"].as_str().unwrap(),
        store.state().install_id
    );
}

// ---------------------------------------------------------------------------------------------
// Forget and the fingerprint

#[test]
fn forget_rotates_id_and_salt_and_keeps_consent() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    let now = chrono::Utc::now();
    store.update(|s| {
        s.consent = Some(Consent::new(true, "setup", now));
        s.last_version = Some("1.0.0".into());
        s.install_sent_at = Some(now);
        s.update_sent_at = Some(now);
        s.health_sent_at = Some(now);
    });
    let before = store.state();

    let after = store.forget();
    assert_ne!(after.install_id, before.install_id);
    assert_ne!(after.salt, before.salt);
    assert_ne!(after.distinct_id(), before.distinct_id());
    assert_eq!(after.consent, before.consent);
    assert!(after.last_version.is_none());
    assert!(after.install_sent_at.is_none());
    assert!(after.update_sent_at.is_none());
    assert!(after.health_sent_at.is_none());

    // Persisted: a restart sees the new identity.
    let reopened = StateStore::open(dir.path()).state();
    assert_eq!(reopened, after);
    let file = read_json(store.path());
    assert_eq!(file["install_sent_at"], Value::Null);
    assert_eq!(file["consent"]["source"], "setup");
}

#[test]
fn fingerprint_is_stable_per_install_and_changes_with_the_salt() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();

    let first = StateStore::open(one.path()).state();
    let id = fingerprint::distinct_id(first.salt.as_bytes(), &first.install_id);
    assert!(is_lower_hex(&id, 64));
    assert_eq!(first.distinct_id(), id);

    // Stable across restarts.
    for _ in 0..3 {
        let state = StateStore::open(one.path()).state();
        assert_eq!(
            fingerprint::distinct_id(state.salt.as_bytes(), &state.install_id),
            id
        );
    }

    // Different per install.
    let other = StateStore::open(two.path()).state();
    assert_ne!(other.distinct_id(), id);

    // Different when the salt changes (same install id).
    let path = one.path().join("install.json");
    let mut file = read_json(&path);
    file["salt"] = json!("ab".repeat(32));
    fs::write(&path, file.to_string()).unwrap();
    let resalted = StateStore::open(one.path()).state();
    assert_eq!(resalted.install_id, first.install_id);
    assert_eq!(resalted.salt.as_bytes(), [0xab; 32]);
    assert_ne!(resalted.distinct_id(), id);

    // TELE_SALT overrides the stored salt.
    assert_eq!(effective_salt(&resalted, Some("fleet-wide")), b"fleet-wide");
    let overridden = resalted.identity(Some("fleet-wide"));
    assert_eq!(
        overridden.distinct_id(),
        fingerprint::distinct_id(b"fleet-wide", &resalted.install_id)
    );
    assert_eq!(
        resalted.identity(Some("  ")).distinct_id(),
        resalted.distinct_id()
    );
}

// --- Redacted Debug -----------------------------------------------------------------------------
// One test per type; `Identity` and `Salt` have theirs next to them in `src/`.

/// `debug` shows neither the install id, the salt nor the whole fingerprint of `state`.
fn assert_no_secrets(
    debug: &str,
    state: &telemetry_core::__private::internals::state::InstallState,
) {
    let salt = serde_json::to_value(state).unwrap()["salt"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!debug.contains(&state.install_id), "{debug}");
    assert!(!debug.contains(&salt), "{debug}");
    assert!(!debug.contains(&state.distinct_id()), "{debug}");
}

#[test]
fn install_state_debug_shows_no_install_id_or_salt() {
    let state = telemetry_core::__private::internals::state::InstallState::new();
    assert_no_secrets(&format!("{state:?} {state:#?}"), &state);
}

#[test]
fn state_store_debug_shows_no_install_id_or_salt() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    assert_no_secrets(&format!("{store:?} {store:#?}"), &store.state());
}
