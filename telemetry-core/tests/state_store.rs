//! The install state on real files: creation, corruption, unwritable directories, merge-on-write,
//! concurrent writers in two processes, `forget`, and the fingerprint built from it.

use std::fs::{self, OpenOptions};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use telemetry_core::__private::internals::fingerprint;
use telemetry_core::__private::internals::state::{Consent, StateStore, effective_salt};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A `tracing` subscriber that records the message of every WARN event.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Runs `f` with this subscriber as the thread's default and returns its result.
    fn capture<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(self.clone(), f)
    }

    fn messages(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct MessageVisitor<'a>(&'a mut String);

impl tracing::field::Visit for MessageVisitor<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = String::new();
            event.record(&mut MessageVisitor(&mut message));
            self.0.lock().unwrap().push(message);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

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
#[allow(
    clippy::incompatible_msrv,
    reason = "File::lock is stable since 1.89; the workspace MSRV (1.88) has to follow"
)]
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

#[test]
fn the_salt_never_shows_in_debug_output() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    let salt_hex = read_json(store.path())["salt"].as_str().unwrap().to_owned();
    assert!(!format!("{store:?}").contains(&salt_hex));
    assert!(!format!("{:?}", store.state()).contains(&salt_hex));
    assert!(!format!("{:?}", store.state().identity(None)).contains(&salt_hex));
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
        let state = telemetry_core::__private::internals::state::StateStore::open(dir.path()).state();
        assert_eq!(state.consent.as_ref().map(|c| c.enabled), Some(false), "{state:?}");
        assert!(!state.consent_lost);
        // And it is on disk for the next start.
        let again = telemetry_core::__private::internals::state::StateStore::open(dir.path()).state();
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
        let store = telemetry_core::__private::internals::state::StateStore::open(dir.path());
        let state = store.state();
        assert!(state.consent.is_none() && state.consent_lost, "{state:?}");
        assert!(
            telemetry_core::__private::internals::state::StateStore::open(dir.path())
                .state()
                .consent_lost,
            "persisted: still off at the next start"
        );
        // A decision clears it.
        store.update(|s| {
            s.record_consent(telemetry_core::__private::internals::state::Consent::new(
                true,
                "admin",
                chrono::Utc::now(),
            ))
        });
        assert!(
            !telemetry_core::__private::internals::state::StateStore::open(dir.path())
                .state()
                .consent_lost
        );
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

    let store = telemetry_core::__private::internals::state::StateStore::open(&state_dir);
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
    let _store = telemetry_core::__private::internals::state::StateStore::open(&fresh);
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&fresh.join("install.json")), 0o600);
    assert_eq!(mode(&fresh.join("install.json.lock")), 0o600);
}

// --- Redacted Debug -----------------------------------------------------------------------------

#[test]
fn install_state_debug_shows_no_install_id_or_salt() {
    let state = telemetry_core::__private::internals::state::InstallState::new();
    let salt = serde_json::to_value(&state).unwrap()["salt"]
        .as_str()
        .unwrap()
        .to_owned();
    let debug = format!("{state:?} {state:#?}");
    assert!(!debug.contains(&state.install_id), "{debug}");
    assert!(!debug.contains(&salt), "{debug}");
    assert!(
        !debug.contains(&state.distinct_id()),
        "not the whole fingerprint either"
    );
}

#[test]
fn state_store_debug_shows_no_install_id_or_salt() {
    let dir = tempfile::tempdir().unwrap();
    let store = telemetry_core::__private::internals::state::StateStore::open(dir.path());
    let state = store.state();
    let salt = serde_json::to_value(&state).unwrap()["salt"]
        .as_str()
        .unwrap()
        .to_owned();
    let debug = format!("{store:?}");
    assert!(!debug.contains(&state.install_id), "{debug}");
    assert!(!debug.contains(&salt), "{debug}");
}
