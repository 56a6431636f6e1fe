//! What the benches share: the instrumented handlers, the same events built for bare
//! posthog-rs, and the pipeline / client setups (both pointed at one loopback server).

#![allow(dead_code)] // each bench uses its own subset

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use posthog_rs::{CaptureCompression, ClientOptionsBuilder, Event};
use telemetry_core::{EnvConfig, Switch};
use telemetry_core::{Telemetry, track_event};

pub const KEY: &str = "phc_bench_key";

/// A stand-in for a 64-hex distinct id, as both sides send one.
pub const DISTINCT_ID: &str = "3f5a2c0e9b7d4e1f8a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f";

// The handlers: trivial bodies, so the figures are the instrumentation's cost.

/// Bench event without properties.
#[track_event("bench.zero")]
#[inline(never)]
pub fn zero(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// Bench event with three properties.
#[track_event("bench.three", props(project_id = x, billable = x & 1 == 0, source = "manual"))]
#[inline(never)]
pub fn three(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// Bench event with eight properties (more than the four stored inline).
#[track_event(
    "bench.eight",
    props(
        project_id = x,
        billable = x & 1 == 0,
        source = "manual",
        rows: u32 = x as u32,
        ratio: f64 = x as f64 * 0.5,
        elapsed = Duration::from_millis(x),
        retried = false,
        attempt: u8 = 3u8
    )
)]
#[inline(never)]
pub fn eight(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// Calls the handler with `props` properties.
#[inline(always)]
pub fn call(props: usize, x: u64) {
    match props {
        0 => black_box(zero(black_box(x))),
        3 => black_box(three(black_box(x))),
        _ => black_box(eight(black_box(x))),
    };
}

// The same events, built the way a bare posthog-rs user would (declared properties only:
// the privacy properties our pipeline adds are not even counted against posthog-rs).

#[inline(never)]
pub fn ph_zero(x: u64) -> Event {
    black_box(x);
    Event::new("bench.zero", DISTINCT_ID)
}

#[inline(never)]
pub fn ph_three(x: u64) -> Event {
    let mut e = Event::new("bench.three", DISTINCT_ID);
    let _ = e.insert_prop("project_id", x);
    let _ = e.insert_prop("billable", x & 1 == 0);
    let _ = e.insert_prop("source", "manual");
    e
}

#[inline(never)]
pub fn ph_eight(x: u64) -> Event {
    let mut e = Event::new("bench.eight", DISTINCT_ID);
    let _ = e.insert_prop("project_id", x);
    let _ = e.insert_prop("billable", x & 1 == 0);
    let _ = e.insert_prop("source", "manual");
    let _ = e.insert_prop("rows", x as u32);
    let _ = e.insert_prop("ratio", x as f64 * 0.5);
    let _ = e.insert_prop("elapsed", Duration::from_millis(x).as_secs_f64());
    let _ = e.insert_prop("retried", false);
    let _ = e.insert_prop("attempt", 3u8);
    e
}

/// Builds the posthog-rs event with `props` properties.
#[inline(always)]
pub fn ph_event(props: usize, x: u64) -> Event {
    match props {
        0 => ph_zero(x),
        3 => ph_three(x),
        _ => ph_eight(x),
    }
}

/// A fresh state directory for one process.
pub fn state_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("telemetry-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Our pipeline, enabled, delivering to PostHog at `host`.
pub fn install_ours(host: &str, queue: Option<usize>, gzip: bool) -> Telemetry {
    let mut builder = Telemetry::builder()
        .app("bench", "1.0.0")
        .env(EnvConfig {
            enable: Some(Switch::On),
            posthog_api_key: Some(KEY.into()),
            posthog_host: Some(host.into()),
            ..EnvConfig::default()
        })
        .state_dir(state_dir("ours"))
        .gzip(gzip)
        // Benches wait for delivery on purpose (flush / shutdown); the 2 s default would give up.
        .shutdown_timeout(Duration::from_secs(120));
    if let Some(q) = queue {
        builder = builder.queue_capacity(q);
    }
    let telemetry = builder.install();
    assert!(telemetry.is_enabled(), "{:?}", telemetry.status());
    telemetry
}

/// A bare posthog-rs blocking client pointed at `host`.
pub fn posthog_client(host: &str, max_queue: Option<usize>, gzip: bool) -> posthog_rs::Client {
    let mut b = ClientOptionsBuilder::default();
    b.api_key(KEY.to_owned())
        .host(host.to_owned())
        .disable_geoip(true);
    if let Some(q) = max_queue {
        b.max_queue_size(q);
    }
    if gzip {
        b.capture_compression(CaptureCompression::Gzip);
    }
    posthog_rs::client(b.build().expect("posthog options"))
}

/// `VmHWM` / `VmRSS` of this process in KiB.
pub fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
