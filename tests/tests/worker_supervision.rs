//! A supervised worker: a panic inside a sink is caught and counted and the worker goes on;
//! if the worker thread dies anyway, capture switches off, what was queued is counted as
//! dropped, and flush/shutdown return at once instead of running into their timeout.
//!
//! The pipeline is process-global, so the whole story is one sequential test.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use telemetry_core::EnvConfig;
use telemetry_core::sink::WireEvent;
use telemetry_core::sink::{Sink, SinkError};
use telemetry_core::stats;
use telemetry_core::{Telemetry, track_event};

/// Makes the sink panic.
#[track_event("sink.exploded")]
fn explode() {}

/// Makes the sink fail (an ordinary error).
#[track_event("sink.failed")]
fn fail() {}

/// Delivered normally.
#[track_event("sink.fed")]
fn feed() {}

/// A custom sink with bugs: it panics on `sink.exploded`, fails on `sink.failed`, and once
/// it has failed, its `kind()` panics on the worker thread (the worker calls it for its
/// "recovered" log line, outside the sink's `send`).
#[derive(Clone, Default)]
struct Buggy {
    delivered: Arc<Mutex<Vec<String>>>,
    armed: Arc<AtomicBool>,
}

impl Sink for Buggy {
    fn kind(&self) -> &'static str {
        if self.armed.load(Ordering::SeqCst)
            && std::thread::current().name() == Some("telemetry-worker")
        {
            panic!("kind() panics on the worker");
        }
        "buggy"
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        if events.iter().any(|e| e.event == "sink.exploded") {
            panic!("the sink exploded");
        }
        if events.iter().any(|e| e.event == "sink.failed") {
            self.armed.store(true, Ordering::SeqCst);
            return Err(SinkError::new("refused"));
        }
        let mut delivered = self.delivered.lock().unwrap();
        delivered.extend(events.iter().map(|e| e.event.clone()));
        Ok(())
    }
}

#[test]
fn a_panicking_sink_is_survived_and_a_dead_worker_switches_capture_off() {
    let dir = std::env::temp_dir().join(format!("worker-supervision-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sink = Buggy::default();
    let telemetry = Telemetry::builder()
        .app("supervision-test", "1.0.0")
        .env(EnvConfig::default())
        .state_dir(&dir)
        .sink(sink.clone())
        .shutdown_timeout(Duration::from_secs(5))
        .install();
    telemetry.set_consent(true);
    assert!(telemetry.flush());
    let start = stats();

    // 1. The sink panics: caught, counted, the batch failed, the worker goes on.
    explode();
    assert!(telemetry.flush(), "the worker answered after the panic");
    let s = stats();
    assert_eq!(s.sink_panics - start.sink_panics, 1);
    assert_eq!(s.failed - start.failed, 1);
    feed();
    assert!(telemetry.flush());
    assert!(
        sink.delivered
            .lock()
            .unwrap()
            .contains(&"sink.fed".to_owned())
    );
    assert_eq!(stats().sent - s.sent, 1);

    // 2. A panic outside `send` (the "recovered" line after a failure calls `kind()`) ends
    //    the worker: capture switches off and nothing can pile up.
    fail();
    assert!(telemetry.flush());
    feed();
    let flushed = telemetry.flush();
    assert!(!flushed, "the worker died during this flush");
    assert!(
        !telemetry_core::__private::is_active(),
        "capture is switched off once the worker is gone"
    );
    let dead = stats();
    for _ in 0..100 {
        feed();
    }
    assert_eq!(
        stats().captured,
        dead.captured,
        "nothing is captured any more"
    );
    assert_eq!(dead.queued, 0);
    assert_eq!(
        dead.captured,
        dead.sent + dead.failed + dead.dropped + dead.queued,
        "{dead:?}"
    );

    // flush and shutdown return at once, not after their 5 s bound.
    let started = Instant::now();
    assert!(!telemetry.flush());
    telemetry.shutdown();
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "flush + shutdown took {:?}",
        started.elapsed()
    );
}
