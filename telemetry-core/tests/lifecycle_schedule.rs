//! Lifecycle decisions over a real install state across "restarts" (reopening the store), and
//! the properties each lifecycle event carries.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use telemetry_core::__private::internals::environment::EnvironmentInfo;
use telemetry_core::__private::internals::lifecycle::{
    DEFAULT_HEALTH_INTERVAL, Ping, PingKind, due_pings, mark_sent,
};
use telemetry_core::__private::internals::state::StateStore;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// One application start: opens the state, sends what is due through `accept` (the sink's
/// answer) and records what was accepted. Returns the pings that were due.
fn start(dir: &Path, version: &str, now: DateTime<Utc>, accept: bool) -> Vec<Ping> {
    let store = StateStore::open(dir);
    let due = due_pings(&store.state(), version, now, DEFAULT_HEALTH_INTERVAL);
    for ping in &due {
        if accept {
            store.update(|s| mark_sent(s, ping.kind(), now, version));
        }
    }
    due
}

#[test]
fn install_once_then_update_then_health_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();

    // First start: install and health, no update.
    assert_eq!(
        start(dir, "1.0.0", t0(), true),
        [Ping::Install, Ping::Health]
    );
    // Restart, same version, same day: nothing.
    assert!(start(dir, "1.0.0", t0() + TimeDelta::hours(1), true).is_empty());
    // New version: one update with both versions.
    assert_eq!(
        start(dir, "1.1.0", t0() + TimeDelta::hours(2), true),
        [Ping::Update {
            old_version: "1.0.0".into(),
            new_version: "1.1.0".into()
        }]
    );
    assert!(start(dir, "1.1.0", t0() + TimeDelta::hours(3), true).is_empty());
    // A day after the last health ping: health again, never install again.
    assert_eq!(
        start(dir, "1.1.0", t0() + TimeDelta::hours(24), true),
        [Ping::Health]
    );

    let state = StateStore::open(dir).state();
    assert_eq!(state.last_version.as_deref(), Some("1.1.0"));
    assert_eq!(state.install_sent_at, Some(t0()));
    assert_eq!(state.update_sent_at, Some(t0() + TimeDelta::hours(2)));
    assert_eq!(state.health_sent_at, Some(t0() + TimeDelta::hours(24)));
}

#[test]
fn a_failed_start_retries_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // The sink refused everything: nothing is recorded...
    assert_eq!(
        start(dir, "1.0.0", t0(), false),
        [Ping::Install, Ping::Health]
    );
    // ...so the next start sends the same.
    assert_eq!(
        start(dir, "1.0.0", t0() + TimeDelta::minutes(5), true),
        [Ping::Install, Ping::Health]
    );
    // Same for an update.
    assert_eq!(
        start(dir, "2.0.0", t0() + TimeDelta::hours(1), false).len(),
        1
    );
    assert_eq!(
        start(dir, "2.0.1", t0() + TimeDelta::hours(2), true),
        [Ping::Update {
            old_version: "1.0.0".into(),
            new_version: "2.0.1".into()
        }]
    );
}

#[test]
fn forget_starts_a_new_install() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    start(dir, "1.0.0", t0(), true);
    StateStore::open(dir).forget();
    assert_eq!(
        start(dir, "1.0.0", t0() + TimeDelta::hours(1), true),
        [Ping::Install, Ping::Health]
    );
}

#[test]
fn a_short_health_interval_for_tests() {
    let dir = tempfile::tempdir().unwrap();
    let store = StateStore::open(dir.path());
    let interval = Duration::from_millis(100);
    let now = t0();
    store.update(|s| mark_sent(s, PingKind::Health, now, "1.0.0"));
    let due = |at| due_pings(&store.reload(), "1.0.0", at, interval);
    assert!(!due(now + TimeDelta::milliseconds(99)).contains(&Ping::Health));
    assert!(due(now + TimeDelta::milliseconds(100)).contains(&Ping::Health));
}

#[test]
fn every_lifecycle_event_carries_exactly_its_declared_properties() {
    let info = EnvironmentInfo::current();
    let common = info.to_properties();
    for ping in [
        Ping::Install,
        Ping::Update {
            old_version: "1".into(),
            new_version: "2".into(),
        },
        Ping::Health,
    ] {
        let sent: BTreeSet<_> = common
            .iter()
            .map(|(name, _)| *name)
            .chain(ping.extra_properties().iter().map(|(name, _)| *name))
            .collect();
        let declared: BTreeSet<_> = ping
            .kind()
            .definition()
            .props
            .iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(sent, declared, "{}", ping.event_name());
    }
    for (name, value) in &common {
        let ok = if *name == "ci" {
            value.is_boolean()
        } else {
            value.as_str().is_some_and(|s| !s.is_empty())
        };
        assert!(ok, "{name} = {value}");
    }
    let deployment = info.deployment_method.as_str();
    assert!(deployment == "container" || deployment == "native");
}

#[test]
fn a_free_text_stored_version_is_sent_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    start(dir, "1.0.0", t0(), true);
    // Someone (or something) wrote free text where the last version is kept.
    StateStore::open(dir).update(|s| s.last_version = Some("1.0 (alice@example.com)".into()));

    let due = start(dir, "1.1.0", t0() + TimeDelta::hours(1), true);
    let [update @ Ping::Update { .. }] = due.as_slice() else {
        panic!("expected one update, got {due:?}");
    };
    let extra: Vec<(&str, String)> = update
        .extra_properties()
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        extra,
        [
            ("old_version", "invalid".to_owned()),
            ("new_version", "1.1.0".to_owned())
        ]
    );
}
