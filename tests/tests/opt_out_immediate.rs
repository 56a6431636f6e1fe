//! Opt-out is immediate (CONTRACT "Identity and privacy"): after `set_consent(false)` returns,
//! no request leaves the process for anything captured before, even with a backlog, a slow
//! PostHog and several threads capturing; and a capture racing the opt-out is never sent
//! after a later opt-in.
//!
//! The proofs read the loopback server's log in arrival order, not clocks: the server holds a
//! request in flight while consent is withdrawn, so the index of the last request that began
//! before the opt-out is known exactly. Whether anything else would still come is settled by
//! opting in again and flushing a marker event: the worker delivers in order, one request at a
//! time, so an old batch still on its way would arrive before the marker.
//!
//! The pipeline is process-global, so the whole story is one sequential test.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_core::EnvConfig;
use telemetry_core::{Stats, stats};
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};

/// Captured by the worker threads, always before the opt-out.
#[track_event("backlog.ticked", props(thread = thread, seq = seq))]
fn tick(thread: u64, seq: u64) {
    let _ = (thread, seq);
}

/// Captured after opting in again.
#[track_event("marker.sent")]
fn marker() {}

/// Threads capturing `tick` in a loop until told to stop.
struct Capturers {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Capturers {
    fn start(n: u64) -> Capturers {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let threads = (0..n)
            .map(|t| {
                let (stop, done) = (stop.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut seq = 0;
                    while !stop.load(Ordering::Relaxed) {
                        tick(t, seq);
                        seq += 1;
                        done.fetch_add(1, Ordering::Relaxed);
                        if seq % 64 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        Capturers {
            stop,
            done,
            threads,
        }
    }

    /// Waits until the threads made `n` more calls.
    fn wait_calls(&self, n: u64) {
        let target = self.done.load(Ordering::Relaxed) + n;
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.done.load(Ordering::Relaxed) < target {
            assert!(Instant::now() < deadline, "capturing threads stalled");
            std::thread::yield_now();
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

fn names(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default())
        .collect()
}

fn assert_balanced(s: Stats) {
    assert_eq!(
        s.captured,
        s.sent + s.failed + s.dropped + s.queued,
        "accounting: {s:?}"
    );
}

/// Opts in again, flushes a marker and returns every request the server got, in order.
fn settle_with_marker(telemetry: &Telemetry, server: &CaptureServer) -> Vec<Vec<Value>> {
    telemetry.set_consent(true);
    marker();
    assert!(telemetry.flush());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let requests: Vec<Vec<Value>> = server.requests().iter().map(|r| r.events()).collect();
        if requests
            .iter()
            .any(|events| names(events).contains(&"marker.sent"))
        {
            return requests;
        }
        assert!(Instant::now() < deadline, "the marker never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn nothing_leaves_after_the_opt_out_returns() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = std::env::temp_dir().join(format!("opt-out-immediate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let telemetry = Telemetry::builder()
        .app("opt-out-test", "1.0.0")
        .env(EnvConfig::default())
        .state_dir(&dir)
        .posthog("phc_opt_out", Some(server.url()))
        .batch_size(20)
        .flush_interval(Duration::from_millis(20))
        .request_timeout(Duration::from_secs(30))
        .queue_capacity(20_000)
        .gzip(false)
        .install();
    telemetry.set_consent(true);
    assert!(telemetry.flush(), "the install ping went out");

    // 1. A backlog behind a slow PostHog, four threads capturing, one round in flight (one
    //    request, or two: PostHog's two lanes).
    server.set_mode(Mode::Hold);
    let capturers = Capturers::start(4);
    assert!(server.wait_for_held(1, Duration::from_secs(10)) >= 1);
    capturers.wait_calls(5_000);
    let backlog = stats();
    assert!(backlog.queued >= 1_000, "a backlog built up: {backlog:?}");
    let began = server.attempts();

    let started = Instant::now();
    telemetry.set_consent(false);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "the opt-out did not wait for the request in flight: {took:?}"
    );
    let withdrawn = stats();
    assert_eq!(withdrawn.queued, 0, "every queued event was discarded");
    assert!(withdrawn.dropped - backlog.dropped >= backlog.queued);
    // The threads go on calling the handler after the opt-out; nothing is captured.
    capturers.wait_calls(5_000);
    capturers.stop();
    assert_eq!(
        stats().captured,
        withdrawn.captured,
        "nothing captured once off"
    );
    // The request in flight is answered now; without the gate the worker would go on with
    // the backlog.
    server.release();

    let requests = settle_with_marker(&telemetry, &server);
    assert!(requests.len() > began);
    for (i, events) in requests.iter().enumerate().skip(began) {
        assert!(
            !names(events).contains(&"backlog.ticked"),
            "request {i} (after the {began} that began before the opt-out) carried backlog \
             events"
        );
    }
    let after = stats();
    let later: usize = requests[began..].iter().map(Vec::len).sum();
    assert_eq!(
        after.sent - withdrawn.sent,
        later as u64,
        "only what was captured after opting in again was sent"
    );
    assert_balanced(after);

    // 2. No backlog: the worker is idle (nothing is due for a minute), the threads' own
    //    buffers hold the events, and captures race the opt-out, round after round.
    telemetry.shutdown();
    let telemetry = Telemetry::builder()
        .app("opt-out-test", "1.0.0")
        .env(EnvConfig::default())
        .state_dir(&dir)
        .posthog("phc_opt_out", Some(server.url()))
        .batch_size(100_000)
        .flush_interval(Duration::from_secs(60))
        .queue_capacity(50_000)
        .gzip(false)
        .install();
    assert!(telemetry.flush());
    let seen = server.requests().len();
    for round in 0..20 {
        telemetry.set_consent(true);
        let capturers = Capturers::start(4);
        capturers.wait_calls(2_000);
        telemetry.set_consent(false);
        let withdrawn = stats();
        capturers.wait_calls(1_000);
        capturers.stop();
        assert_eq!(withdrawn.queued, 0, "round {round}: nothing left buffered");
        assert_eq!(stats().captured, withdrawn.captured, "round {round}");
    }
    let requests = settle_with_marker(&telemetry, &server);
    for (i, events) in requests.iter().enumerate().skip(seen) {
        assert!(
            !names(events).contains(&"backlog.ticked"),
            "request {i}: a capture from before an opt-out was sent after opting in again"
        );
    }
    let end = stats();
    assert_eq!(end.queued, 0);
    assert_balanced(end);
    telemetry.shutdown();
}
