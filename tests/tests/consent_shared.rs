//! Consent shared through the install state: an opt-out persisted by another process (another
//! replica, a CLI, an admin tool) reaches every running process within 5 s, unless the
//! environment pins the switch there. Real processes (`telemetry-driver`) against the loopback
//! capture server.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::{DriverProcess, temp_dir};

const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");

fn driver(state: &Path, server: &CaptureServer, extra: &[(&str, &str)]) -> DriverProcess {
    let state = state.to_string_lossy().into_owned();
    let url = server.url();
    let mut env = vec![
        ("TELEMETRY_STATE_DIR", state.as_str()),
        ("POSTHOG_API_KEY", "phc_shared"),
        ("POSTHOG_HOST", url.as_str()),
        ("DRIVER_FLUSH_INTERVAL_MS", "100"),
    ];
    env.extend_from_slice(extra);
    DriverProcess::start(EXE, state.as_ref(), &env)
}

fn named(server: &CaptureServer, name: &str) -> usize {
    server
        .events()
        .iter()
        .filter(|e| e["event"] == name)
        .count()
}

fn captured(stats: &Value) -> u64 {
    stats["captured"].as_u64().expect("captured counter")
}

#[test]
fn an_opt_out_by_another_process_stops_every_running_process_within_5_s() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = temp_dir("consent-shared");
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();

    // A: decided by the persisted consent. P: pinned on by the environment.
    let mut a = driver(&state, &server, &[]);
    let mut pinned = driver(&state, &server, &[("ENABLE_TELEMETRY", "1")]);
    assert_eq!(a.cmd("consent on")["enabled"], true);
    a.cmd("capture 5 before");
    assert_eq!(a.cmd("flush")["flushed"], true);
    server.wait_for_events(5, Duration::from_secs(10));
    assert_eq!(
        named(&server, "driver.before"),
        5,
        "A delivers while opted in"
    );

    // B, an admin tool sharing the state, opts out and exits.
    let mut b = driver(&state, &server, &[]);
    assert_eq!(b.cmd("status")["enabled"], true, "B reads A's opt-in");
    assert_eq!(b.cmd("consent off")["enabled"], false);
    b.shutdown();

    // A notices on its own, within 5 s.
    let (status, took) = a.wait_for("status", Duration::from_secs(5), |s| s["enabled"] == false);
    assert_eq!(status["reason_code"]["source"], "consent", "{status}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    // From now on A captures nothing: the counter stands still, nothing reaches the server.
    let before = captured(&a.cmd("stats"));
    a.cmd("capture 20 after");
    assert_eq!(
        captured(&a.cmd("stats")),
        before,
        "A captured after the opt-out"
    );
    assert_eq!(a.cmd("flush")["flushed"], true);
    a.shutdown();
    assert_eq!(named(&server, "driver.after"), 0);

    // A's detection took a full watch period (it polls as often as P would): P, pinned by
    // ENABLE_TELEMETRY, kept its decision.
    let status = pinned.cmd("status");
    assert_eq!(status["enabled"], true, "{status}");
    assert_eq!(status["reason_code"]["source"], "env_enabled");
    pinned.shutdown();

    // And an opt-in by another process turns a running process back on the same way.
    let mut c = driver(&state, &server, &[]);
    let mut d = driver(&state, &server, &[]);
    assert_eq!(c.cmd("status")["enabled"], false);
    d.cmd("consent on");
    d.shutdown();
    c.wait_for("status", Duration::from_secs(5), |s| s["enabled"] == true);
    c.cmd("capture 3 after");
    assert_eq!(c.cmd("flush")["flushed"], true);
    server.wait_for_events(5 + 3, Duration::from_secs(10));
    assert_eq!(named(&server, "driver.after"), 3);
    c.shutdown();
}
