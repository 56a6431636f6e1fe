//! Load: 8 threads x 250 000 captures through a small queue (10 000) to a loopback server.
//! Memory stays bounded (the queue bound, not the burst, sets it) and the accounting is exact:
//! captured == sent + dropped + failed, and the server got exactly the sent ones.
//!
//! One scenario per test binary: the pipeline is process-global.

use std::time::{Duration, Instant};

use telemetry_core::{EnvConfig, Switch};
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::counting_server::CountingServer;

const THREADS: u64 = 8;
const PER_THREAD: u64 = 250_000;
const QUEUE: usize = 10_000;
/// Peak RSS growth allowed. Unbounded, 2 M queued events would take about 400 MiB.
const RSS_BOUND_KIB: u64 = 64 * 1024;

/// A load-test event.
#[track_event("load.tick", props(thread = thread, seq = seq, even = seq.is_multiple_of(2)))]
fn tick(thread: u64, seq: u64) -> u64 {
    thread ^ seq
}

fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn eight_threads_through_a_small_queue_stay_bounded_and_exact() {
    let server = CountingServer::start(false);
    let dir = std::env::temp_dir().join(format!("telemetry-load-{}", std::process::id()));
    let telemetry = Telemetry::builder()
        .app("load", "1.0.0")
        .env(EnvConfig {
            enable: Some(Switch::On),
            posthog_api_key: Some("phc_load".into()),
            posthog_host: Some(server.url()),
            ..EnvConfig::default()
        })
        .state_dir(&dir)
        .queue_capacity(QUEUE)
        .gzip(false)
        // Deliver everything still queued at the end, so the server count can be compared.
        .shutdown_timeout(Duration::from_secs(60))
        .install();
    assert!(telemetry.is_enabled());
    telemetry.flush(); // the start-up lifecycle pings
    quiet_and_exiting_threads_lose_nothing(&telemetry, &server);
    let before = telemetry_core::stats();
    let hwm_before = vm_hwm_kib();

    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    std::hint::black_box(tick(t, i));
                }
            });
        }
    });
    let capture_time = start.elapsed();
    let hwm_after = vm_hwm_kib();
    telemetry.shutdown();
    let stats = telemetry_core::stats();

    let captured = stats.captured - before.captured;
    assert_eq!(captured, THREADS * PER_THREAD, "{stats:?}");
    assert_eq!(stats.queued, 0, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(
        stats.captured,
        stats.sent + stats.dropped + stats.failed,
        "every event is accounted for: {stats:?}"
    );
    assert_eq!(stats.dropped, stats.dropped_queue_full, "{stats:?}");
    // The server got exactly what was counted as sent (the pings included), no more. It counts
    // a request before answering it and an event counts as sent once answered, so after the
    // shutdown its count is final.
    assert_eq!(server.events(), stats.sent, "{stats:?}");
    assert_eq!(server.bad_requests(), 0);

    let growth = hwm_after.saturating_sub(hwm_before);
    eprintln!(
        "load: {captured} captures in {capture_time:?}; sent {} dropped {} (queue bound {QUEUE}); \
         VmHWM {hwm_before} -> {hwm_after} KiB (+{growth} KiB)",
        stats.sent - before.sent,
        stats.dropped
    );
    assert!(growth < RSS_BOUND_KIB, "peak RSS grew by {growth} KiB");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Captures wait in their thread's buffer until it fills, the worker's periodic sweep, a flush
/// or shutdown; a thread that exits with a part-filled buffer hands it over, and a flush sweeps
/// the buffers of threads that are still alive but quiet.
fn quiet_and_exiting_threads_lose_nothing(telemetry: &Telemetry, server: &CountingServer) {
    let before = telemetry_core::stats();
    // Exits with 5 buffered events.
    std::thread::spawn(|| {
        for i in 0..5 {
            tick(100, i);
        }
    })
    .join()
    .unwrap();
    // Stays alive with 3 buffered events while we flush.
    let (parked_tx, parked_rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let quiet = std::thread::spawn(move || {
        for i in 0..3 {
            tick(101, i);
        }
        ready_tx.send(()).unwrap();
        let _ = parked_rx.recv();
    });
    ready_rx.recv().unwrap();
    assert!(telemetry.flush());
    let after = telemetry_core::stats();
    assert_eq!(after.captured - before.captured, 8, "{after:?}");
    assert_eq!(after.sent - before.sent, 8, "{after:?}");
    assert_eq!(
        server.wait_for_events(after.sent, Duration::from_secs(10)),
        after.sent
    );
    drop(parked_tx);
    quiet.join().unwrap();
}
