//! `Telemetry` as one state machine: a consent change racing shutdown never starts a worker
//! after shutdown; a second `install()` takes the pipeline over; `forget()` discards what is
//! queued and says when `TELE_SALT` keeps hashed values linkable; a corrupt state file keeps
//! telemetry off even when the application's default is on.
//!
//! The pipeline is process-global: the tests take turns.

use std::sync::{Barrier, Mutex};
use std::time::Duration;

use telemetry_core::__private::internals::state::StateStore;
use telemetry_core::sink::MemorySink;
use telemetry_core::{EnvConfig, Reason, Switch};
use telemetry_core::{IdentitySource, Telemetry, track_event};

static TURN: Mutex<()> = Mutex::new(());

/// Something happened.
#[track_event("machine.ping", props(n = n))]
fn ping(n: u64) -> u64 {
    n
}

struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod tempfile {
    pub fn tempdir() -> std::io::Result<super::TempDir> {
        Ok(super::TempDir(telemetry_tests::child::temp_dir("machine")))
    }
}

fn builder(dir: &std::path::Path) -> telemetry_core::TelemetryBuilder {
    Telemetry::builder()
        .app("machine", "1.0.0")
        .env(EnvConfig::default())
        .state_dir(dir)
        // Never the default `logs/telemetry.jsonl` of the working directory.
        .jsonl_path(dir.join("telemetry.jsonl"))
        .flush_interval(Duration::from_secs(60))
}

#[test]
fn set_consent_racing_shutdown_never_leaves_a_worker_running() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    for round in 0..200 {
        let dir = tempfile::tempdir().unwrap();
        let (sink, _events) = MemorySink::new();
        let telemetry = builder(dir.path()).sink(sink).install();
        let barrier = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                barrier.wait();
                telemetry.set_consent(true);
            });
            barrier.wait();
            telemetry.shutdown();
        });
        // Whichever came first, the pipeline is closed once shutdown returned.
        assert!(
            !telemetry_core::__private::is_active(),
            "round {round}: capture still on"
        );
        assert!(!telemetry.status().pipeline_owner, "round {round}");
        // The decision itself was persisted.
        assert_eq!(
            StateStore::open(dir.path())
                .state()
                .consent
                .map(|c| c.enabled),
            Some(true)
        );
    }
}

#[test]
fn a_second_install_takes_the_pipeline_over() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let on = EnvConfig::default();
    let (first_sink, first) = MemorySink::new();
    let a = builder(dir.path())
        .env(on.clone())
        .sink(first_sink)
        .install();
    a.set_consent(true);
    let (second_sink, second) = MemorySink::new();
    let b = builder(dir.path()).env(on).sink(second_sink).install();
    assert!(b.status().enabled && b.status().pipeline_owner);
    assert!(
        !a.status().pipeline_owner,
        "the first handle no longer drives the pipeline"
    );
    ping(1);
    assert!(b.flush());
    let names = |events: &telemetry_core::sink::MemoryEvents| -> Vec<String> {
        events.snapshot().into_iter().map(|e| e.event).collect()
    };
    assert!(
        names(&second).contains(&"machine.ping".to_owned()),
        "{:?}",
        names(&second)
    );
    assert!(!names(&first).contains(&"machine.ping".to_owned()));

    // An opt-out through the superseded handle still reaches the owner at once (same file).
    a.set_consent(false);
    assert!(!b.is_enabled());
    assert!(!telemetry_core::__private::is_active());
    b.shutdown();
    a.shutdown();
}

#[test]
fn forget_discards_the_queue_and_reports_a_pinned_salt() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let (sink, delivered) = MemorySink::new();
    let telemetry = builder(dir.path()).sink(sink).install();
    telemetry.set_consent(true);
    assert!(telemetry.flush(), "the install ping of the first identity");
    let old = telemetry.status().fingerprint_short;
    let dropped_before = telemetry.status().counters.dropped;
    for n in 0..10 {
        ping(n);
    }
    telemetry.forget();
    let status = telemetry.status();
    assert_ne!(status.fingerprint_short, old);
    assert!(!status.salt_pinned && status.salt_pinned_note.is_none());
    assert_eq!(status.identity_source, IdentitySource::Persisted);
    assert!(
        status.counters.dropped >= dropped_before + 10,
        "{:?}",
        status.counters
    );
    assert!(telemetry.flush());
    let events = delivered.snapshot();
    assert!(
        events.iter().all(|e| e.event != "machine.ping"),
        "nothing captured before forget() was sent"
    );
    let installs: Vec<_> = events
        .iter()
        .filter(|e| e.event == "telemetry.install")
        .collect();
    assert_eq!(installs.len(), 2, "one per identity");
    assert_ne!(installs[0].distinct_id, installs[1].distinct_id);
    telemetry.shutdown();

    // With TELE_SALT the status says hashed values stay linkable.
    let dir = tempfile::tempdir().unwrap();
    let pinned = builder(dir.path())
        .env(EnvConfig {
            tele_salt: Some("fleet".into()),
            ..EnvConfig::default()
        })
        .install();
    let status = pinned.status();
    assert!(status.salt_pinned);
    assert!(status.salt_pinned_note.unwrap().contains("linkable"));
    pinned.shutdown();
}

#[test]
fn a_corrupt_state_file_keeps_telemetry_off_until_consent_even_when_on_by_default() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("install.json"), b"{\"consent\": {\"enab").unwrap();
    let (sink, _events) = MemorySink::new();
    let telemetry = builder(dir.path())
        .enabled_by_default(true)
        .sink(sink)
        .install();
    let status = telemetry.status();
    assert!(!status.enabled);
    assert_eq!(status.reason_code, Reason::ConsentLost);
    telemetry.set_consent(true);
    assert!(telemetry.is_enabled());
    telemetry.shutdown();

    // The environment still wins over a lost consent.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("install.json"), b"garbage").unwrap();
    let on = builder(dir.path())
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .install();
    assert_eq!(on.status().reason_code, Reason::EnvEnabled);
    on.shutdown();
}
