//! One install across replicas: two processes on separate state directories sharing
//! `TELEMETRY_INSTALL_ID` and `TELE_SALT` send under one fingerprint, and their
//! `telemetry.install` pings carry one uuid, so PostHog keeps one of them.

use std::time::Duration;

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::{DriverProcess, temp_dir};

const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");

fn replica(server: &CaptureServer, tag: &str, pinned: bool) -> (DriverProcess, Value) {
    let dir = temp_dir(tag);
    let state = dir.join("state").to_string_lossy().into_owned();
    let url = server.url();
    let mut env = vec![
        ("TELEMETRY_STATE_DIR", state.as_str()),
        ("ENABLE_TELEMETRY", "1"),
        ("POSTHOG_API_KEY", "phc_fleet"),
        ("POSTHOG_HOST", url.as_str()),
    ];
    if pinned {
        env.push(("TELEMETRY_INSTALL_ID", "web-fleet-7"));
        env.push(("TELE_SALT", "fleet salt shared by the replicas"));
    }
    let mut driver = DriverProcess::start(EXE, &dir, &env);
    let status = driver.cmd("status");
    assert_eq!(driver.cmd("flush")["flushed"], true);
    (driver, status)
}

fn installs(server: &CaptureServer) -> Vec<Value> {
    server
        .events()
        .into_iter()
        .filter(|e| e["event"] == "telemetry.install")
        .collect()
}

#[test]
fn replicas_sharing_the_variables_are_one_install_and_their_install_pings_one_uuid() {
    let server = CaptureServer::start(Mode::Ok);
    let (a, status_a) = replica(&server, "fleet-a", true);
    let (b, status_b) = replica(&server, "fleet-b", true);
    server.wait_for_events(4, Duration::from_secs(10));
    a.shutdown();
    b.shutdown();

    for status in [&status_a, &status_b] {
        assert_eq!(status["identity_source"], "pinned_by_env", "{status}");
        assert_eq!(status["salt_pinned"], true);
    }
    let pings = installs(&server);
    assert_eq!(pings.len(), 2, "each replica sent its own: {pings:?}");
    assert_eq!(pings[0]["distinct_id"], pings[1]["distinct_id"]);
    assert_eq!(
        pings[0]["uuid"], pings[1]["uuid"],
        "PostHog dedups on the uuid"
    );
    let uuid = pings[0]["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);

    // A replica without the variables is an install of its own, with a uuid of its own.
    let (c, status_c) = replica(&server, "fleet-c", false);
    server.wait_for_events(6, Duration::from_secs(10));
    c.shutdown();
    assert_eq!(status_c["identity_source"], "persisted", "{status_c}");
    assert_eq!(status_c["salt_pinned"], false);
    let pings = installs(&server);
    assert_eq!(pings.len(), 3);
    assert_ne!(pings[2]["distinct_id"], pings[0]["distinct_id"]);
    assert_ne!(pings[2]["uuid"], pings[0]["uuid"]);
}
