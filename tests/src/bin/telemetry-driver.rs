//! A child process for fault and load tests: installs telemetry from the real environment
//! (plus a few `DRIVER_*` knobs), then obeys one command per stdin line and answers each with
//! one JSON line on stdout. Warnings go to stderr, where the parent counts them.
//!
//! Commands: `capture <n> <before|after>` (times every call), `flush`, `stats`, `status`,
//! `consent <on|off>` (persists a decision, as an admin tool sharing the state would),
//! `forget`, `shutdown` (then exits), `exit` (exits without shutdown).

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use serde_json::json;
use telemetry_core::{Telemetry, track_event};

/// An event captured while the fault is on (fault tests).
#[track_event("driver.before", props(seq = seq))]
fn before(seq: u64) -> u64 {
    seq
}

/// An event captured after the fault is over (fault tests).
#[track_event("driver.after", props(seq = seq))]
fn after(seq: u64) -> u64 {
    seq
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

fn main() {
    let mut builder = Telemetry::builder().app("telemetry-driver", "1.0.0");
    if let Some(ms) = env_u64("DRIVER_REQUEST_TIMEOUT_MS") {
        builder = builder.request_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = env_u64("DRIVER_SHUTDOWN_TIMEOUT_MS") {
        builder = builder.shutdown_timeout(Duration::from_millis(ms));
    }
    if let Some(ms) = env_u64("DRIVER_FLUSH_INTERVAL_MS") {
        builder = builder.flush_interval(Duration::from_millis(ms));
    }
    if let Some(n) = env_u64("DRIVER_QUEUE") {
        builder = builder.queue_capacity(n as usize);
    }
    if let Some(n) = env_u64("DRIVER_BATCH") {
        builder = builder.batch_size(n as usize);
    }
    if std::env::var("DRIVER_GZIP").is_ok_and(|v| v == "0") {
        builder = builder.gzip(false);
    }
    if let Some(bytes) = env_u64("DRIVER_SPOOL_MAX_BYTES") {
        builder = builder.spool_limits(telemetry_core::SpoolLimits {
            max_bytes: bytes,
            ..Default::default()
        });
    }
    let telemetry = builder.install();
    let mut seq = 0u64;
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words.as_slice() {
            ["capture", n, which] => {
                let n: u64 = n.parse().expect("count");
                let handler: fn(u64) -> u64 = if *which == "after" { after } else { before };
                let start = Instant::now();
                let mut max = Duration::ZERO;
                for _ in 0..n {
                    let t = Instant::now();
                    std::hint::black_box(handler(seq));
                    max = max.max(t.elapsed());
                    seq += 1;
                }
                json!({
                    "n": n,
                    "max_call_us": max.as_micros() as u64,
                    "total_ms": start.elapsed().as_secs_f64() * 1e3,
                })
            }
            ["flush"] => {
                let start = Instant::now();
                let flushed = telemetry.flush();
                json!({ "flushed": flushed, "ms": start.elapsed().as_secs_f64() * 1e3 })
            }
            ["consent", which] => {
                telemetry.set_consent_from(*which == "on", "driver");
                json!(telemetry.status())
            }
            ["forget"] => {
                telemetry.forget();
                json!(telemetry.status())
            }
            ["stats"] => json!(telemetry_core::stats()),
            ["status"] => json!(telemetry.status()),
            ["shutdown"] => {
                let start = Instant::now();
                telemetry.shutdown();
                let ms = start.elapsed().as_secs_f64() * 1e3;
                let reply = json!({ "ms": ms, "stats": telemetry_core::stats() });
                let mut out = stdout.lock();
                let _ = writeln!(out, "{reply}");
                let _ = out.flush();
                return;
            }
            ["exit"] => std::process::exit(0),
            _ => json!({ "error": format!("unknown command {line:?}") }),
        };
        let mut out = stdout.lock();
        let _ = writeln!(out, "{reply}");
        let _ = out.flush();
    }
}
