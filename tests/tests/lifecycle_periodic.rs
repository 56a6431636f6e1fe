//! A long-running process sends `telemetry.health` from a periodic timer, at most once per
//! interval (shortened here), and records each one in the install state.

use std::time::{Duration, Instant};

use telemetry_core::Telemetry;
use telemetry_core::sink::MemorySink;
use telemetry_core::{EnvConfig, Switch};

#[test]
fn health_is_sent_periodically_and_at_most_once_per_interval() {
    let dir = std::env::temp_dir().join(format!("lifecycle-periodic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (sink, delivered) = MemorySink::new();
    let interval = Duration::from_millis(400);
    let telemetry = Telemetry::builder()
        .app("periodic", "2.0.0")
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .state_dir(&dir)
        .sink(sink)
        .health_interval(interval)
        .install();

    let started = Instant::now();
    // Real time is the subject here: wait (bounded) for the third periodic ping.
    let deadline = started + Duration::from_secs(20);
    let health_count = || {
        delivered
            .snapshot()
            .iter()
            .filter(|e| e.event == "telemetry.health")
            .count()
    };
    while health_count() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    telemetry.shutdown();
    let elapsed = started.elapsed();

    let events = delivered.snapshot();
    let health: Vec<_> = events
        .iter()
        .filter(|e| e.event == "telemetry.health")
        .collect();
    let installs = events
        .iter()
        .filter(|e| e.event == "telemetry.install")
        .count();
    assert_eq!(installs, 1);
    // At start, then once per interval: never more often than that.
    let most = 1 + (elapsed.as_millis() / interval.as_millis()) as usize;
    assert!(health.len() >= 3, "periodic health pings: {}", health.len());
    assert!(
        health.len() <= most,
        "{} pings in {elapsed:?}",
        health.len()
    );
    for ping in &health {
        assert_eq!(ping.properties["app_version"], "2.0.0");
        assert!(ping.properties.contains_key("deployment_method"));
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("install.json")).unwrap()).unwrap();
    assert!(state["health_sent_at"].is_string(), "recorded in the state");
}
