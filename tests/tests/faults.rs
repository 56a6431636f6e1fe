//! Faults: for each way delivery (or the install state) can break, a child process running
//! the toolkit (`telemetry-driver`) must keep its handlers fast, never panic, count the
//! failure, report it once (not once per event), stop within the shutdown bound, and deliver
//! new events once the server is back.
//!
//! Child processes keep each scenario's global pipeline and stderr to itself.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::{DriverProcess, temp_dir};
use telemetry_tests::counting_server::CountingServer;

const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");
const KEY: &str = "phc_fault_test";
/// A handler must return well within this, whatever the server does.
const CALL_BOUND: Duration = Duration::from_millis(50);
/// The default shutdown bound (2 s) plus slack for a loaded 2-core machine.
const SHUTDOWN_BOUND: Duration = Duration::from_millis(2_500);
/// How long a child may take to exit once shutdown returned.
const EXIT_BOUND: Duration = Duration::from_secs(1);
const FAILED_LINE: &str = "delivery failed";

/// A running `telemetry-driver` child, set up to fail fast against the test's server.
struct Driver(DriverProcess);

impl Driver {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Driver {
        let state = dir.join("state");
        let mut vars = vec![
            (
                "TELEMETRY_STATE_DIR",
                state.to_str().expect("a UTF-8 temp path"),
            ),
            ("ENABLE_TELEMETRY", "1"),
            ("POSTHOG_API_KEY", KEY),
            // Short enough that a hung request gives up within a test's patience.
            ("DRIVER_REQUEST_TIMEOUT_MS", "1000"),
            ("DRIVER_FLUSH_INTERVAL_MS", "100"),
            ("DRIVER_BATCH", "50"),
        ];
        vars.extend_from_slice(env);
        Driver(DriverProcess::start(EXE, dir, &vars))
    }

    /// Sends one command and waits (bounded) for its JSON answer.
    fn cmd(&mut self, command: &str, limit: Duration) -> Value {
        self.0.cmd_within(command, limit)
    }

    /// Captures `n` events and checks that no call took long.
    fn capture(&mut self, n: u64, which: &str) {
        let reply = self.cmd(&format!("capture {n} {which}"), Duration::from_secs(30));
        let max = Duration::from_micros(reply["max_call_us"].as_u64().unwrap());
        assert!(max < CALL_BOUND, "a handler took {max:?}: {reply}");
    }

    fn stats(&mut self) -> Value {
        self.cmd("stats", Duration::from_secs(10))
    }

    /// Polls the counters until `pred` holds, or panics after `limit`.
    fn wait_stats(&mut self, limit: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        self.0.wait_for("stats", limit, pred).0
    }

    /// Shuts down, checks the bound, the exit and the accounting; returns stats and stderr.
    fn shutdown(mut self) -> (Value, String) {
        let reply = self.cmd("shutdown", Duration::from_secs(10));
        let ms = reply["ms"].as_f64().unwrap();
        assert!(
            Duration::from_secs_f64(ms / 1e3) < SHUTDOWN_BOUND,
            "shutdown took {ms} ms"
        );
        let (status, stderr) = self.0.exit_within(EXIT_BOUND);
        assert!(status.success(), "exit {status:?}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        let stats = reply["stats"].clone();
        let n = |k: &str| stats[k].as_u64().unwrap();
        assert_eq!(n("queued"), 0, "{stats}");
        assert_eq!(
            n("captured"),
            n("sent") + n("failed") + n("dropped"),
            "every event is accounted for: {stats}"
        );
        (stats, stderr)
    }
}

fn count_lines(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// The failure is counted (as failed, or dropped when a shutdown gave up on it).
fn failure_counted(stats: &Value) -> bool {
    stats["failed"].as_u64().unwrap() > 0
}

/// A server fault, then recovery: the common script. The client sends to `url`, which fails
/// until `recover` runs; `server_events` counts the `driver.after` events that arrived.
fn fault_then_recover(
    tag: &str,
    url: &str,
    recover: impl FnOnce(),
    server_events: impl Fn() -> u64,
) -> (Value, String) {
    let dir = temp_dir(tag);
    let mut driver = Driver::start(&dir, &[("POSTHOG_HOST", url)]);
    // Captures while failing: fast, and the failure is counted.
    driver.capture(500, "before");
    driver.wait_stats(Duration::from_secs(20), failure_counted);
    driver.capture(500, "before");
    let failing = driver.stats();
    assert!(failure_counted(&failing), "{failing}");

    recover();
    driver.capture(100, "after");
    let deadline = Instant::now() + Duration::from_secs(20);
    while server_events() < 100 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        server_events(),
        100,
        "the new events arrived once the server was back"
    );
    let (stats, stderr) = driver.shutdown();
    assert_eq!(
        count_lines(&stderr, FAILED_LINE),
        1,
        "the failure is reported once, not per event or per batch:\n{stderr}"
    );
    assert_eq!(count_lines(&stderr, "recovered"), 1, "{stderr}");
    (stats, stderr)
}

/// While the fault lasts, shutdown still returns within the bound and the process exits.
fn shutdown_while_failing(tag: &str, url: &str) {
    let dir = temp_dir(tag);
    let mut driver = Driver::start(&dir, &[("POSTHOG_HOST", url)]);
    driver.capture(2_000, "before");
    let (stats, stderr) = driver.shutdown();
    assert!(count_lines(&stderr, FAILED_LINE) <= 1, "{stderr}");
    assert!(count_lines(&stderr, "shutdown timed out") <= 1, "{stderr}");
    assert_eq!(
        stats["sent"].as_u64().unwrap(),
        0,
        "nothing can be sent: {stats}"
    );
}

/// Events named `driver.after` that reached a [`CaptureServer`].
fn after_events(server: &CaptureServer) -> u64 {
    server
        .events()
        .iter()
        .filter(|e| e["event"] == "driver.after")
        .count() as u64
}

fn server_fault(tag: &str, mode: Mode) {
    let server = CaptureServer::start(mode.clone());
    let url = server.url();
    std::thread::scope(|s| {
        // Both children at once: each scenario waits on timeouts more than it computes.
        s.spawn(|| shutdown_while_failing(&format!("{tag}-shutdown"), &url));
        let recovered = CaptureServer::start(mode.clone());
        let (stats, _) = fault_then_recover(
            tag,
            &recovered.url(),
            || recovered.set_mode(Mode::Ok),
            || after_events(&recovered),
        );
        assert!(stats["failed"].as_u64().unwrap() > 0, "{stats}");
    });
    assert!(server.attempts() > 0, "it did try");
}

#[test]
fn server_answers_500() {
    server_fault("500", Mode::Status(500));
}

#[test]
fn server_rate_limits_with_retry_after() {
    server_fault("429", Mode::RateLimited(1));
}

#[test]
fn server_accepts_and_never_answers() {
    server_fault("hang", Mode::Hang);
}

#[test]
fn server_answers_garbage() {
    server_fault("garbage", Mode::Garbage);
}

/// The server answers `200 OK` and cuts the body short. The status line says the batch was
/// accepted, so posthog-rs reports success and the events count as sent: retrying them would
/// send duplicates. What must hold is the rest: fast handlers, no panic, no failure report,
/// exact accounting, bounded shutdown.
#[test]
fn server_closes_mid_body() {
    let server = CaptureServer::start(Mode::CloseMidBody);
    let dir = temp_dir("midbody");
    let url = server.url();
    let mut driver = Driver::start(&dir, &[("POSTHOG_HOST", url.as_str())]);
    driver.capture(500, "before");
    driver.wait_stats(Duration::from_secs(20), |s| {
        s["sent"].as_u64().unwrap() + s["failed"].as_u64().unwrap() >= 500
    });
    assert!(server.attempts() >= 10, "{} requests", server.attempts());
    server.set_mode(Mode::Ok);
    driver.capture(100, "after");
    let deadline = Instant::now() + Duration::from_secs(20);
    while after_events(&server) < 100 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(after_events(&server), 100);
    let (stats, stderr) = driver.shutdown();
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(count_lines(&stderr, FAILED_LINE), 0, "{stderr}");
}

/// PostHog refusing connections (nothing listens on the port): shutdown stays bounded.
#[test]
fn server_refuses_connections() {
    shutdown_while_failing(
        "refused-shutdown",
        &telemetry_tests::capture_server::refused_url(),
    );
}

/// PostHog unreachable (every connection cut unanswered), then back at the same URL.
#[test]
fn server_unreachable_then_back() {
    let server = CaptureServer::start(Mode::Unreachable);
    let (stats, _) = fault_then_recover(
        "down",
        &server.url(),
        || server.set_mode(Mode::Ok),
        || after_events(&server),
    );
    assert!(stats["failed"].as_u64().unwrap() > 0, "{stats}");
    assert!(server.cut() > 0, "it did try while PostHog was down");
}

/// A state directory that cannot be created degrades to in-memory state, warns once, and
/// changes nothing else: events are delivered.
#[test]
fn unwritable_state_dir() {
    let server = CountingServer::start(true);
    let dir = temp_dir("unwritable");
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "a regular file").unwrap();
    // A directory under a regular file can never be created, even by root.
    let state = blocker.join("state");
    let url = server.url();
    let mut driver = Driver::start(
        &dir,
        &[
            ("POSTHOG_HOST", url.as_str()),
            ("TELEMETRY_STATE_DIR", state.to_str().unwrap()),
        ],
    );
    let status = driver.cmd("status", Duration::from_secs(10));
    assert_eq!(status["enabled"], true, "{status}");
    assert_eq!(status["state_persistent"], false, "{status}");
    driver.capture(200, "after");
    wait_named(&server, "driver.after", 200);
    let (stats, stderr) = driver.shutdown();
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(server.named("driver.after"), 200);
    assert_eq!(
        count_lines(&stderr, "install state"),
        1,
        "one warning about the state:\n{stderr}"
    );
    assert!(!state.exists());
}

/// A corrupt state file is moved aside and replaced, with one warning; events are delivered.
#[test]
fn corrupt_state_file() {
    let server = CountingServer::start(true);
    let dir = temp_dir("corrupt");
    let state: PathBuf = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("install.json"),
        b"{\"install_id\": \x00\xff garbage",
    )
    .unwrap();
    let url = server.url();
    let mut driver = Driver::start(&dir, &[("POSTHOG_HOST", url.as_str())]);
    let status = driver.cmd("status", Duration::from_secs(10));
    assert_eq!(status["state_persistent"], true, "{status}");
    driver.capture(200, "after");
    wait_named(&server, "driver.after", 200);
    let (stats, stderr) = driver.shutdown();
    assert_eq!(stats["failed"], 0, "{stats}");
    assert_eq!(server.named("driver.after"), 200);
    assert_eq!(
        count_lines(&stderr, "install state"),
        1,
        "one warning about the state:\n{stderr}"
    );
    let fresh: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("install.json")).unwrap())
            .expect("a valid state file replaced the corrupt one");
    assert_eq!(fresh["salt"].as_str().unwrap().len(), 64);
    let aside = std::fs::read_dir(&state)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains("corrupt"))
        .count();
    assert_eq!(aside, 1, "the corrupt file was kept aside for inspection");
}

/// Waits (bounded) until `n` events named `name` reached the server.
fn wait_named(server: &CountingServer, name: &str, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.named(name) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}
