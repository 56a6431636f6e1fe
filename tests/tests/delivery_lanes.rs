//! Delivery lanes: on a backlog the worker hands a sink a round of batches (two at most) and
//! books every batch's outcome on its own; PostHog sends the two at once, on two connections.
//!
//! One test: the pipeline is process-global, so the scenarios run one after the other.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use telemetry_core::sink::{Sink, SinkError, WireEvent};
use telemetry_core::{EnvConfig, Switch, Telemetry, stats, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};

const BATCH: usize = 10;

/// A lane test event.
#[track_event("lanes.tick", props(seq = seq))]
fn tick(seq: u64) -> u64 {
    seq
}

fn builder(tag: &str) -> telemetry_core::TelemetryBuilder {
    let dir = std::env::temp_dir().join(format!("telemetry-lanes-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Telemetry::builder()
        .app("lanes", "1.0.0")
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .state_dir(dir)
        .batch_size(BATCH)
        // Long enough that only the flush below sends: the backlog is there when it does.
        .flush_interval(Duration::from_secs(30))
        .gzip(false)
}

/// A custom sink with two lanes that takes every round's first batch and refuses the second.
struct HalfRefused {
    rounds: Arc<Mutex<Vec<Vec<usize>>>>,
}

impl Sink for HalfRefused {
    fn kind(&self) -> &'static str {
        "half-refused"
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        self.rounds.lock().unwrap().push(vec![events.len()]);
        Ok(())
    }

    fn lanes(&self) -> usize {
        2
    }

    fn send_all(&mut self, batches: &[&[WireEvent]]) -> Vec<Result<(), SinkError>> {
        self.rounds
            .lock()
            .unwrap()
            .push(batches.iter().map(|b| b.len()).collect());
        (0..batches.len())
            .map(|i| match i {
                0 => Ok(()),
                _ => Err(SinkError::permanent("refused")),
            })
            .collect()
    }
}

#[test]
fn a_backlog_goes_out_two_batches_at_a_time_each_booked_on_its_own() {
    // A custom sink: rounds of two batches, one outcome each.
    let rounds = Arc::new(Mutex::new(Vec::new()));
    let telemetry = builder("custom")
        .sink(HalfRefused {
            rounds: rounds.clone(),
        })
        .install();
    assert!(telemetry.is_enabled(), "{:?}", telemetry.status());
    telemetry.flush(); // start-up pings, if any, go first
    rounds.lock().unwrap().clear();
    let before = stats();
    for seq in 0..2 * BATCH as u64 {
        tick(seq);
    }
    assert!(telemetry.flush());
    let after = stats();
    assert_eq!(*rounds.lock().unwrap(), [vec![BATCH, BATCH]]);
    assert_eq!(after.sent - before.sent, BATCH as u64, "{after:?}");
    assert_eq!(after.failed - before.failed, BATCH as u64, "{after:?}");
    telemetry.shutdown();

    // PostHog: both batches of a round are on the wire at once, on two connections.
    let server = CaptureServer::start(Mode::Ok);
    let telemetry = builder("posthog")
        .posthog("phc_lanes_test", Some(server.url()))
        .install();
    assert!(telemetry.is_enabled(), "{:?}", telemetry.status());
    telemetry.flush();
    let pings = server.events().len();
    server.set_mode(Mode::Hold);
    let before = stats();
    for seq in 0..2 * BATCH as u64 {
        tick(seq);
    }
    std::thread::scope(|scope| {
        let flushed = scope.spawn(|| telemetry.flush());
        assert_eq!(
            server.wait_for_held(2, Duration::from_secs(10)),
            2,
            "the round's second batch waited for the first"
        );
        // Both lanes run at the worker's lowered priority (Linux: nice 10, per thread).
        #[cfg(target_os = "linux")]
        {
            let nice = nice_by_thread();
            for name in ["telemetry-worke", "telemetry-send"] {
                let found: Vec<_> = nice.iter().filter(|(n, _)| n == name).collect();
                assert!(!found.is_empty(), "no thread {name}: {nice:?}");
                assert!(found.iter().all(|(_, v)| *v == 10), "{nice:?}");
            }
        }
        server.release();
        assert!(flushed.join().unwrap());
    });
    let after = stats();
    assert_eq!(after.sent - before.sent, 2 * BATCH as u64, "{after:?}");
    let events = server.events();
    assert_eq!(events.len() - pings, 2 * BATCH);
    let mut seqs: Vec<u64> = events[pings..]
        .iter()
        .map(|e| e["properties"]["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..2 * BATCH as u64).collect::<Vec<_>>());
    let sizes: Vec<usize> = server
        .requests()
        .iter()
        .map(|r| r.body["batch"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes[sizes.len() - 2..], [BATCH, BATCH]);
    telemetry.shutdown();

    // An opt-out reaches both lanes, and is not held up by a flush waiting on PostHog: the
    // round's two requests are held, the user opts out, PostHog then answers 503, and neither
    // lane tries again (the second lane's thread asks the consent gate for the delivery the
    // worker began).
    let slow = CaptureServer::start(Mode::Ok);
    let dir = std::env::temp_dir().join(format!("telemetry-lanes-optout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let telemetry = Telemetry::builder()
        .app("lanes", "1.0.0")
        .env(EnvConfig::default())
        .state_dir(dir)
        .posthog("phc_lanes_test", Some(slow.url()))
        .batch_size(BATCH)
        .flush_interval(Duration::from_secs(30))
        .gzip(false)
        .install();
    telemetry.set_consent(true);
    assert!(telemetry.flush()); // the start-up pings go out first
    slow.set_mode(Mode::Hold);
    let before = slow.attempts();
    for seq in 0..2 * BATCH as u64 {
        tick(seq);
    }
    std::thread::scope(|scope| {
        let flushed = scope.spawn(|| telemetry.flush());
        assert_eq!(slow.wait_for_held(2, Duration::from_secs(10)), 2);
        let started = std::time::Instant::now();
        telemetry.set_consent(false);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "the opt-out waited for the flush: {:?}",
            started.elapsed()
        );
        slow.set_mode(Mode::Status(503));
        // Returns once the round is over: both lanes were answered 503 and gave up.
        flushed.join().unwrap();
    });
    assert_eq!(
        slow.attempts(),
        before + 2,
        "a lane retried after the opt-out"
    );
    telemetry.shutdown();
}

/// Each thread of this process with its nice value, from `/proc/self/task/*/stat` (thread
/// names are cut to 15 bytes there).
#[cfg(target_os = "linux")]
fn nice_by_thread() -> Vec<(String, i64)> {
    let mut threads = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        // Fields after the name start at field 3 (state); nice is field 19.
        let nice = stat[close + 2..]
            .split_whitespace()
            .nth(16)
            .and_then(|v| v.parse().ok())
            .unwrap_or(i64::MIN);
        threads.push((name, nice));
    }
    threads
}
