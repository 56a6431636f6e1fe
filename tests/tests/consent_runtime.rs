//! Consent at runtime, in one process against the loopback capture server: off by default,
//! opting in starts delivery (with the install ping), opting out stops it at once and discards
//! what is queued, the decision persists across restarts, the environment wins over it, and
//! `forget()` rotates the fingerprint.
//!
//! The pipeline is process-global, so the whole story is one sequential test.

use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_core::{EnvConfig, Reason, Switch};
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};

/// A task was completed.
#[track_event("task.completed", props(task_id = id))]
fn complete_task(id: u64) -> u64 {
    id
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

fn install(server: &CaptureServer, dir: &std::path::Path, env: EnvConfig) -> Telemetry {
    Telemetry::builder()
        .app("consent-test", "1.0.0")
        .env(env)
        .state_dir(dir)
        .posthog("phc_consent", Some(server.url()))
        // Events wait in the worker until flushed, so withdrawal can catch them queued.
        .flush_interval(Duration::from_secs(60))
        .install()
}

#[test]
fn consent_is_applied_at_once_persisted_and_overridden_by_the_environment() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = std::env::temp_dir().join(format!("consent-runtime-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // 1. Nothing decided: off, nothing captured, no connection.
    let telemetry = install(&server, &dir, EnvConfig::default());
    let status = telemetry.status();
    assert!(!status.enabled);
    assert_eq!(status.reason_code, Reason::Default);
    complete_task(1);
    assert!(telemetry.flush());
    assert_eq!(server.attempts(), 0, "no connection while off");

    // 2. Opt in: the install ping goes out, then captured events flow.
    telemetry.set_consent_from(true, "setup");
    assert!(telemetry.status().enabled);
    assert_eq!(telemetry.status().reason_code, Reason::Consent(true));
    complete_task(2);
    assert!(telemetry.flush());
    let events = server.wait_for_events(3, Duration::from_secs(5));
    assert_eq!(
        names(&events),
        ["telemetry.install", "telemetry.health", "task.completed"]
    );
    assert_eq!(events[2]["properties"]["task_id"], 2);
    let fingerprint = events[2]["distinct_id"].as_str().unwrap().to_owned();
    assert!(telemetry.status().last_install.is_some());

    // 3. Opt out with events still queued: the call returns at once, they are discarded.
    let before = telemetry_core::stats();
    complete_task(3);
    complete_task(4);
    let started = Instant::now();
    telemetry.set_consent(false);
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "opt-out never waits"
    );
    let status = telemetry.status();
    assert!(!status.enabled);
    assert_eq!(status.reason_code, Reason::Consent(false));
    complete_task(5); // not even captured
    assert!(telemetry.flush());
    // The server logs a request before answering it, and the worker that could have sent one
    // is gone once the opt-out returned: its log is final here.
    assert_eq!(
        server.events().len(),
        3,
        "nothing after the opt-out was sent"
    );
    let after = telemetry_core::stats();
    assert_eq!(after.captured - before.captured, 2);
    assert_eq!(
        after.dropped - before.dropped,
        2,
        "the two queued events were discarded"
    );
    assert_eq!(after.sent, before.sent);
    telemetry.shutdown();

    // 4. The opt-out persisted; opting in again in a new run keeps the same fingerprint.
    let telemetry = install(&server, &dir, EnvConfig::default());
    assert_eq!(telemetry.status().reason_code, Reason::Consent(false));
    telemetry.set_consent(true);
    complete_task(6);
    assert!(telemetry.flush());
    let events = server.wait_for_events(4, Duration::from_secs(5));
    assert_eq!(names(&events)[3], "task.completed");
    assert_eq!(events[3]["distinct_id"], fingerprint.as_str());
    telemetry.shutdown();

    // 5. The environment wins over the persisted opt-in.
    let env = EnvConfig {
        enable: Some(Switch::Off),
        ..EnvConfig::default()
    };
    let telemetry = install(&server, &dir, env);
    assert!(!telemetry.status().enabled);
    assert_eq!(telemetry.status().reason_code, Reason::EnvDisabled);
    telemetry.shutdown();
    let env = EnvConfig {
        enable: Some(Switch::On),
        do_not_track: true,
        ..EnvConfig::default()
    };
    let telemetry = install(&server, &dir, env);
    assert_eq!(telemetry.status().reason_code, Reason::DoNotTrack);
    telemetry.shutdown();

    // 6. forget(): a new fingerprint at once; the running process announces the new install.
    let telemetry = install(&server, &dir, EnvConfig::default());
    assert!(telemetry.status().enabled);
    let old_short = telemetry.status().fingerprint_short;
    let seen = server.events().len();
    telemetry.forget();
    let new_short = telemetry.status().fingerprint_short;
    assert_ne!(new_short, old_short);
    complete_task(7);
    assert!(telemetry.flush());
    let events = server.wait_for_events(seen + 3, Duration::from_secs(5));
    let fresh = &events[seen..];
    let mut fresh_names = names(fresh);
    fresh_names.sort();
    assert_eq!(
        fresh_names,
        ["task.completed", "telemetry.health", "telemetry.install"]
    );
    for event in fresh {
        let id = event["distinct_id"].as_str().unwrap();
        assert_ne!(id, fingerprint.as_str());
        assert!(id.starts_with(&new_short), "{id} vs {new_short}");
    }
    telemetry.shutdown();
}
