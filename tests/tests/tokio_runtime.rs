//! `install()`, capture, flush and shutdown from inside a tokio runtime, in a debug build:
//! posthog-rs's blocking client panics when it is built or used there, so ours must never be.

use std::time::Duration;

use telemetry_core::{EnvConfig, Switch};
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};

/// A report was viewed.
#[track_event("report.viewed", props(page = page))]
async fn view_report(page: u32) -> u32 {
    tokio::task::yield_now().await;
    page
}

// `cargo test` builds with debug assertions, where posthog-rs's blocking client would panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_inside_a_multi_thread_runtime() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = std::env::temp_dir().join(format!("tokio-runtime-{}", std::process::id()));
    let telemetry = Telemetry::builder()
        .app("tokio-test", "1.0.0")
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .state_dir(&dir)
        .posthog("phc_tokio", Some(server.url()))
        .gzip(false)
        .install();
    let handle = tokio::spawn(view_report(3));
    assert_eq!(handle.await.unwrap(), 3);
    assert!(telemetry.flush());
    let events = server.wait_for_events(3, Duration::from_secs(5));
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "report.viewed" && e["properties"]["page"] == 3),
        "{events:?}"
    );
    // Plain bodies when gzip is off (the other end-to-end tests cover gzipped ones).
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.gzip && r.body["api_key"] == "phc_tokio")
    );
    // Dropping the last handle inside the runtime shuts down within the bound, no panic.
    drop(telemetry);
}
