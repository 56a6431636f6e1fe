//! A small command-line app instrumented with `telemetry-core`.
//!
//! Run it with telemetry on and no PostHog key, and its events land in
//! `logs/telemetry.jsonl`:
//!
//! ```text
//! ENABLE_TELEMETRY=1 cargo run -p quickstart
//! ```
//!
//! Its handlers live in this library so that other binaries (the end-to-end tests) can link
//! them: a binary's catalog holds exactly the events of the crates it links.

pub mod handlers;

use std::process::ExitCode;
use std::time::Duration;

use telemetry_core::Telemetry;

/// Runs the demo: a login, two projects, a timer and an export, then a bounded shutdown.
///
/// `QUICKSTART_EVENTS=N` repeats the timer N times (for load and shutdown tests).
pub fn main() -> ExitCode {
    telemetry_core::catalog::exit_if_requested();
    let telemetry = Telemetry::builder()
        .app("quickstart", env!("CARGO_PKG_VERSION"))
        .install();

    let repeat: u64 = std::env::var("QUICKSTART_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);

    let _ = handlers::login(42, false);
    let _ = handlers::login(42, true);
    let website = handlers::create_project(1, "Website relaunch", true).expect("valid project");
    let _ = handlers::create_project(2, "   ", false); // fails: no event
    for i in 0..repeat {
        let entry = handlers::start_timer(&website, "design review");
        handlers::stop_timer(entry + i, &website, Duration::from_secs(90));
    }
    handlers::export(handlers::ExportFormat::Csv, 12);

    let status = telemetry.status();
    if status.enabled {
        let target = status.sink_target.clone().unwrap_or_default();
        println!(
            "telemetry on ({}): events go to {} {}",
            status.reason, status.sink, target
        );
    } else {
        println!(
            "telemetry off ({}): nothing was sent. Try ENABLE_TELEMETRY=1.",
            status.reason
        );
    }
    telemetry.shutdown();
    let stats = telemetry_core::stats();
    println!(
        "captured={} sent={} failed={} dropped={}",
        stats.captured, stats.sent, stats.failed, stats.dropped
    );
    ExitCode::SUCCESS
}

/// How long the demo's shutdown may take (the toolkit's default bound).
pub const SHUTDOWN_BOUND: Duration = Duration::from_secs(2);
