//! Lifecycle pings across "restarts", driven through the real pipeline: each start installs
//! telemetry on one state directory with a sink that accepts or refuses every delivery, lets the
//! worker run its lifecycle check (`LifecycleRunner::run`) and shuts down. What was offered to
//! the sink and what the install state records are the runner's own doing.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use telemetry_core::Telemetry;
use telemetry_core::sink::WireEvent;
use telemetry_core::sink::{Sink, SinkError};
use telemetry_core::{EnvConfig, Switch};

mod common {
    pub mod contract;
}
use common::contract::AUTOMATIC_PROPERTIES;

/// A process has one pipeline: the tests of this file take turns.
static PIPELINE: Mutex<()> = Mutex::new(());

/// The default health interval: long enough that no test sees a second health ping.
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Records every event offered to it; accepts them or refuses them all.
struct Offered {
    accept: bool,
    seen: Arc<Mutex<Vec<WireEvent>>>,
}

impl Sink for Offered {
    fn kind(&self) -> &'static str {
        "offered"
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        self.seen.lock().unwrap().extend_from_slice(events);
        if self.accept {
            Ok(())
        } else {
            Err(SinkError::new("refused by the test"))
        }
    }
}

/// One application start with telemetry on: returns the lifecycle events offered to the sink,
/// after `during` ran on the installed handle and the pipeline shut down.
fn start_with(
    dir: &Path,
    version: &str,
    accept: bool,
    health_interval: Duration,
    during: impl FnOnce(&Telemetry),
) -> Vec<WireEvent> {
    let _turn = PIPELINE.lock().unwrap_or_else(|e| e.into_inner());
    let seen = Arc::default();
    let telemetry = Telemetry::builder()
        .app("lifecycle-test", version)
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .state_dir(dir)
        .sink(Offered {
            accept,
            seen: Arc::clone(&seen),
        })
        .health_interval(health_interval)
        .install();
    during(&telemetry);
    telemetry.shutdown();
    let events = std::mem::take(&mut *seen.lock().unwrap());
    events
        .into_iter()
        .filter(|e| e.event.starts_with("telemetry."))
        .collect()
}

fn start(dir: &Path, version: &str, accept: bool) -> Vec<WireEvent> {
    start_with(dir, version, accept, DAY, |_| {})
}

fn names(events: &[WireEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event.as_str()).collect()
}

/// The install state as the runner left it on disk.
fn state(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("install.json")).unwrap()).unwrap()
}

#[test]
fn install_once_then_update_then_health_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // First start: install and health, no update.
    let first = start(dir, "1.0.0", true);
    assert_eq!(names(&first), ["telemetry.install", "telemetry.health"]);
    let installed = state(dir);
    assert_eq!(installed["last_version"], "1.0.0");
    assert!(installed["install_sent_at"].is_string(), "{installed}");
    assert!(installed["update_sent_at"].is_null(), "{installed}");
    // Restart, same version, within the health interval: nothing.
    assert_eq!(names(&start(dir, "1.0.0", true)), [] as [&str; 0]);
    // New version: one update with both versions.
    let update = start(dir, "1.1.0", true);
    assert_eq!(names(&update), ["telemetry.update"]);
    assert_eq!(update[0].properties["old_version"], "1.0.0");
    assert_eq!(update[0].properties["new_version"], "1.1.0");
    assert_eq!(names(&start(dir, "1.1.0", true)), [] as [&str; 0]);
    // With an interval shorter than the time since the first start: health again, never
    // install again.
    let interval = Duration::from_millis(10);
    // The starts above can all fit in less than the interval: let it pass since the last ping.
    std::thread::sleep(2 * interval);
    let later = start_with(dir, "1.1.0", true, interval, |_| {});
    assert!(
        !later.is_empty() && later.iter().all(|e| e.event == "telemetry.health"),
        "{:?}",
        names(&later)
    );

    let recorded = state(dir);
    assert_eq!(recorded["last_version"], "1.1.0");
    assert_eq!(recorded["install_sent_at"], installed["install_sent_at"]);
    assert!(recorded["update_sent_at"].is_string(), "{recorded}");
    assert_ne!(recorded["health_sent_at"], installed["health_sent_at"]);
    // Every ping went out under the install's fingerprint.
    let ids: BTreeSet<_> = [first, update, later]
        .iter()
        .flatten()
        .map(|e| e.distinct_id.clone())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[test]
fn a_refused_ping_is_not_recorded_and_is_sent_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // The sink refused the install ping: the runner stops there and records nothing...
    assert_eq!(names(&start(dir, "1.0.0", false)), ["telemetry.install"]);
    assert!(state(dir)["install_sent_at"].is_null());
    // ...so the next start sends it again, and health after it.
    assert_eq!(
        names(&start(dir, "1.0.0", true)),
        ["telemetry.install", "telemetry.health"]
    );
    // Same for an update: the refused one is offered again, from the last recorded version.
    assert_eq!(names(&start(dir, "2.0.0", false)), ["telemetry.update"]);
    let update = start(dir, "2.0.1", true);
    assert_eq!(names(&update), ["telemetry.update"]);
    assert_eq!(update[0].properties["old_version"], "1.0.0");
    assert_eq!(update[0].properties["new_version"], "2.0.1");
    assert_eq!(state(dir)["last_version"], "2.0.1");
}

#[test]
fn forget_starts_a_new_install_under_a_new_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let first = start(dir, "1.0.0", true);
    let after_forget = start_with(dir, "1.0.0", true, DAY, Telemetry::forget);
    assert_eq!(
        names(&after_forget),
        ["telemetry.install", "telemetry.health"]
    );
    assert_ne!(first[0].distinct_id, after_forget[0].distinct_id);
    // No update: forgetting is not a new version.
    assert_eq!(names(&start(dir, "1.0.0", true)), [] as [&str; 0]);
}

#[test]
fn every_lifecycle_event_carries_exactly_its_declared_and_the_automatic_properties() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let mut events = start(dir, "1.0.0", true);
    events.extend(start(dir, "1.1.0", true));
    assert_eq!(
        names(&events),
        ["telemetry.install", "telemetry.health", "telemetry.update"]
    );
    // Written out from the contract (shared/CONTRACT.md, "Lifecycle events" and "Identity and
    // privacy"), not read from the code under test.
    let context = [
        "app_version",
        "platform",
        "arch",
        "rust_version",
        "environment",
        "deployment_method",
        "ci",
    ];
    for event in &events {
        let extra: &[&str] = if event.event == "telemetry.update" {
            &["old_version", "new_version"]
        } else {
            &[]
        };
        let expected: BTreeSet<&str> = context
            .into_iter()
            .chain(AUTOMATIC_PROPERTIES)
            .chain(extra.iter().copied())
            .collect();
        let sent: BTreeSet<&str> = event.properties.keys().map(String::as_str).collect();
        assert_eq!(sent, expected, "{}", event.event);
        for name in context {
            let value = &event.properties[name];
            let ok = if name == "ci" {
                value.is_boolean()
            } else {
                value.as_str().is_some_and(|s| !s.is_empty())
            };
            assert!(ok, "{}: {name} = {value}", event.event);
        }
        let deployment = &event.properties["deployment_method"];
        assert!(deployment == "container" || deployment == "native");
        assert_eq!(event.properties["app_version"], event_version(event));
    }
}

/// The version a ping was sent by: the new one for an update.
fn event_version(event: &WireEvent) -> &str {
    match event.properties.get("new_version") {
        Some(Value::String(version)) => version,
        _ => "1.0.0",
    }
}

#[test]
fn a_free_text_stored_version_is_sent_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    start(dir, "1.0.0", true);
    // Someone (or something) wrote free text where the last version is kept.
    let mut recorded = state(dir);
    recorded["last_version"] = "1.0 (alice@example.com)".into();
    std::fs::write(dir.join("install.json"), recorded.to_string()).unwrap();

    let update = start(dir, "1.1.0", true);
    assert_eq!(names(&update), ["telemetry.update"]);
    assert_eq!(update[0].properties["old_version"], "invalid");
    assert_eq!(update[0].properties["new_version"], "1.1.0");
}
