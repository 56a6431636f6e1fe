//! The outage spool with real processes (`telemetry-driver`) against the loopback capture
//! server: events PostHog did not take are delivered later (same run or next), exactly once,
//! under their original `uuid` and `timestamp`; consent-off deletes them; the size bound
//! drops the oldest; a corrupt file is survived; two processes never send an event twice;
//! a batch PostHog rejects for good is never spooled, nor kept in the spool.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::{DriverProcess, temp_dir};

const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");
const KEY: &str = "phc_spool_test";
const PATIENCE: Duration = Duration::from_secs(30);

fn driver(dir: &Path, host: &str, extra: &[(&str, &str)]) -> DriverProcess {
    let mut env = vec![("ENABLE_TELEMETRY", "1")];
    env.extend_from_slice(extra);
    driver_with(dir, host, &env)
}

/// A driver whose switch is the persisted consent (no `ENABLE_TELEMETRY`).
fn driver_with(dir: &Path, host: &str, extra: &[(&str, &str)]) -> DriverProcess {
    let state = dir.join("state");
    let mut env = vec![
        ("POSTHOG_API_KEY", KEY),
        ("POSTHOG_HOST", host),
        ("TELEMETRY_STATE_DIR", state.to_str().unwrap()),
        ("DRIVER_REQUEST_TIMEOUT_MS", "1000"),
        ("DRIVER_FLUSH_INTERVAL_MS", "100"),
        ("DRIVER_BATCH", "10"),
        ("DRIVER_GZIP", "0"),
    ];
    env.extend_from_slice(extra);
    DriverProcess::start(EXE, dir, &env)
}

/// A loopback port with nothing listening (connections refused) that a server can take later.
/// PostHog down: a capture server that cuts every connection until `set_mode(Mode::Ok)`, so
/// it comes back at the same URL (the spool is bound to its host).
fn down_server() -> CaptureServer {
    CaptureServer::start(Mode::Unreachable)
}

fn n(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// The spool files in the state directory (the spool and any in-flight files).
fn spool_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir.join("state"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    name.starts_with("spool-") && name.ends_with(".jsonl")
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every event line in the spool files (the header skipped), as JSON.
fn spooled_events(dir: &Path) -> Vec<Value> {
    spool_files(dir)
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .skip(1)
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Run 1: captures `count` events against a refused port, and exits with them spooled.
fn spool_while_down(
    dir: &Path,
    server: &CaptureServer,
    count: u64,
    extra: &[(&str, &str)],
) -> Value {
    let mut d = driver(dir, &server.url(), extra);
    d.cmd(&format!("capture {count} before"));
    d.cmd("flush");
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| {
        n(s, "spooled") >= count && n(s, "queued") == 0
    });
    let stderr = d.shutdown();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stats
}

fn before_events(server: &CaptureServer) -> Vec<Value> {
    server
        .events()
        .into_iter()
        .filter(|e| e["event"] == "driver.before")
        .collect()
}

fn wait_before(server: &CaptureServer, count: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let events = before_events(server);
        if events.len() >= count || std::time::Instant::now() > deadline {
            return events;
        }
        server.wait_for_events(usize::MAX, Duration::from_millis(100));
    }
}

/// The uuid and the timestamp, the latter normalised: posthog-rs re-serialises the timestamp
/// it is given (`.981000Z` goes out as `.981Z`), the same instant.
fn uuid_and_time(e: &Value) -> (String, String) {
    let at = e["timestamp"].as_str().unwrap();
    let at = match at.strip_suffix('Z').and_then(|t| t.split_once('.')) {
        Some((secs, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                format!("{secs}Z")
            } else {
                format!("{secs}.{frac}Z")
            }
        }
        None => at.to_owned(),
    };
    (e["uuid"].as_str().unwrap().to_owned(), at)
}

#[test]
fn down_then_up_delivers_once_with_original_uuid_and_timestamp_next_run_first_in_order() {
    let dir = temp_dir("spool-down-up");
    let server = down_server();
    let stats = spool_while_down(&dir, &server, 20, &[]);
    assert_eq!(n(&stats, "spooled"), 20, "{stats}");
    assert_eq!(n(&stats, "sent"), 0, "{stats}");
    assert!(server.cut() > 0, "it tried while PostHog was down");
    let on_disk = spooled_events(&dir);
    assert_eq!(on_disk.len(), 20);
    #[cfg(unix)]
    for file in spool_files(&dir) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains(KEY), "the key is never written");
    }

    server.set_mode(Mode::Ok);
    let mut d = driver(&dir, &server.url(), &[]);
    let arrived = wait_before(&server, 20);
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "recovered") >= 20);
    assert_eq!(n(&stats, "recovered"), 20, "{stats}");
    let status = d.cmd("status");
    assert_eq!(status["spool_pending"], 0, "{status}");
    d.shutdown();

    assert_eq!(arrived.len(), 20, "delivered once each");
    let sent: Vec<_> = arrived.iter().map(uuid_and_time).collect();
    let spooled: Vec<_> = on_disk.iter().map(uuid_and_time).collect();
    assert_eq!(
        sent, spooled,
        "original uuid and timestamp, in capture order"
    );
    let seqs: Vec<u64> = arrived.iter().map(|e| n(&e["properties"], "seq")).collect();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
    assert!(spool_files(&dir).is_empty(), "{:?}", spool_files(&dir));
}

#[test]
fn hanging_then_up_resends_under_the_same_uuid() {
    let server = CaptureServer::start(Mode::Hold);
    let dir = temp_dir("spool-hang");
    let mut d = driver(&dir, &server.url(), &[]);
    d.cmd("capture 5 before");
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "spooled") >= 5);
    // Lifecycle pings fail too, but are not spooled (a later check sends them again).
    assert!(n(&stats, "failed") >= 5, "{stats}");
    let first_attempt: HashMap<String, String> =
        before_events(&server).iter().map(uuid_and_time).collect();
    assert_eq!(first_attempt.len(), 5, "the server did see the batch");

    server.release();
    // A fresh delivery succeeds: the spool goes right after it.
    d.cmd("capture 1 after");
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "recovered") >= 5);
    d.shutdown();
    assert_eq!(n(&stats, "recovered"), 5, "{stats}");
    let mut per_uuid: HashMap<String, usize> = HashMap::new();
    for e in before_events(&server) {
        let (uuid, at) = uuid_and_time(&e);
        assert_eq!(
            first_attempt.get(&uuid),
            Some(&at),
            "same uuid, same timestamp"
        );
        *per_uuid.entry(uuid).or_default() += 1;
    }
    assert_eq!(per_uuid.len(), 5);
    assert!(
        per_uuid.values().all(|&c| c >= 2),
        "re-sent under the same uuid (PostHog dedups): {per_uuid:?}"
    );
}

#[test]
fn status_500_then_200_recovers_in_the_same_run() {
    let server = CaptureServer::start(Mode::Status(500));
    let dir = temp_dir("spool-500");
    let mut d = driver(&dir, &server.url(), &[]);
    d.cmd("capture 10 before");
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "spooled") >= 10);
    assert_eq!(n(&stats, "spooled"), 10, "{stats}");
    assert!(n(&stats, "failed") >= 10, "{stats}");
    assert!(before_events(&server).is_empty());
    let status = d.cmd("status");
    assert_eq!(status["spool_pending"], 10, "{status}");

    server.set_mode(Mode::Ok);
    // No new event: the periodic retry (with backoff) finds PostHog back on its own.
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "recovered") >= 10);
    let status = d.cmd("status");
    assert_eq!(status["spool_pending"], 0, "{status}");
    let stats_at_end = d.cmd("stats");
    d.shutdown();
    let arrived = before_events(&server);
    let unique: HashSet<_> = arrived.iter().map(uuid_and_time).collect();
    assert_eq!((arrived.len(), unique.len()), (10, 10), "{arrived:?}");
    assert_eq!(n(&stats, "recovered"), 10);
    assert_eq!(
        n(&stats_at_end, "captured"),
        n(&stats_at_end, "sent")
            + n(&stats_at_end, "failed")
            + n(&stats_at_end, "dropped")
            + n(&stats_at_end, "queued"),
        "{stats_at_end}"
    );
}

/// A batch PostHog refuses for good (401: PostHog's capture service's answer to a personal API
/// key given as the project key) can never be accepted: it is counted failed, not spooled, and
/// not sent again. (A 500 is spooled: `status_500_then_200_recovers_in_the_same_run`.)
#[test]
fn a_batch_rejected_with_401_is_counted_failed_and_never_spooled() {
    let server = CaptureServer::start(Mode::Status(401));
    let dir = temp_dir("spool-401");
    let mut d = driver(&dir, &server.url(), &[]);
    d.cmd("capture 10 before");
    d.cmd("flush");
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "queued") == 0);
    // Lifecycle pings fail too (never spooled), so at least the 10 events.
    assert!(n(&stats, "failed") >= 10, "{stats}");
    assert_eq!(n(&stats, "spooled"), 0, "{stats}");
    assert_eq!(n(&stats, "sent"), 0, "{stats}");
    let status = d.cmd("status");
    assert_eq!(status["spool_pending"], 0, "{status}");
    assert!(spool_files(&dir).is_empty(), "{:?}", spool_files(&dir));
    let attempts = server.attempts();
    assert!(attempts >= 1, "PostHog was asked");
    // A shutdown re-sends the spool first: with nothing spooled, no further request.
    let stderr = d.shutdown();
    assert!(stderr.contains("Unauthorized"), "{stderr}");
    assert_eq!(server.attempts(), attempts, "not sent again");
    assert!(spool_files(&dir).is_empty(), "{:?}", spool_files(&dir));
}

/// A spooled batch whose re-send PostHog now refuses for good (the project key was swapped for
/// a personal key meanwhile, say) is removed from the spool and counted, not retried forever.
#[test]
fn a_spooled_batch_rejected_for_good_on_resend_is_removed_and_counted() {
    let server = CaptureServer::start(Mode::Status(500));
    let dir = temp_dir("spool-500-401");
    let mut d = driver(&dir, &server.url(), &[]);
    d.cmd("capture 10 before");
    d.wait_for("stats", PATIENCE, |s| n(s, "spooled") >= 10);
    assert_eq!(spooled_events(&dir).len(), 10);

    server.set_mode(Mode::Status(401));
    // The periodic re-send (with backoff) gets the 401.
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "spool_rejected") >= 10);
    assert_eq!(n(&stats, "spool_rejected"), 10, "{stats}");
    assert_eq!(n(&stats, "recovered"), 0, "{stats}");
    let status = d.cmd("status");
    assert_eq!(status["spool_pending"], 0, "{status}");
    assert!(spool_files(&dir).is_empty(), "{:?}", spool_files(&dir));
    let attempts = server.attempts();
    server.set_mode(Mode::Ok);
    d.shutdown();
    assert_eq!(
        server.attempts(),
        attempts,
        "the rejected batch is not sent again"
    );
    assert!(before_events(&server).is_empty());
}

#[test]
fn do_not_track_between_runs_deletes_the_spool_unsent() {
    let dir = temp_dir("spool-dnt");
    let server = down_server();
    spool_while_down(&dir, &server, 10, &[]);
    assert_eq!(spooled_events(&dir).len(), 10);
    server.set_mode(Mode::Ok);
    let mut d = driver(&dir, &server.url(), &[("DO_NOT_TRACK", "1")]);
    let status = d.cmd("status");
    assert_eq!(status["enabled"], false, "{status}");
    assert!(spool_files(&dir).is_empty(), "{:?}", spool_files(&dir));
    d.shutdown();
    // The process has exited: nothing can be sent any more.
    assert_eq!(server.attempts(), 0);
}

#[test]
fn opt_out_and_forget_delete_the_spool() {
    for command in ["consent off", "forget"] {
        let dir = temp_dir("spool-optout");
        let down = down_server();
        let mut d = driver_with(&dir, &down.url(), &[]);
        d.cmd("consent on");
        d.cmd("capture 5 before");
        d.wait_for("stats", PATIENCE, |s| n(s, "spooled") >= 5);
        assert!(!spool_files(&dir).is_empty());
        d.cmd(command);
        assert!(
            spool_files(&dir).is_empty(),
            "{command}: {:?}",
            spool_files(&dir)
        );
        d.shutdown();
    }
}

#[test]
fn a_full_spool_drops_the_oldest_and_counts_them() {
    let dir = temp_dir("spool-full");
    let server = down_server();
    let stats = spool_while_down(&dir, &server, 60, &[("DRIVER_SPOOL_MAX_BYTES", "6000")]);
    let overflowed = n(&stats, "spool_overflowed");
    assert!(overflowed > 0, "{stats}");
    let total: u64 = spool_files(&dir)
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 6000, "{total} bytes on disk");
    // Oldest by capture time (the pipeline may deliver, and spool, a later batch first).
    let mut kept: Vec<u64> = spooled_events(&dir)
        .iter()
        .map(|e| n(&e["properties"], "seq"))
        .collect();
    kept.sort_unstable();
    assert_eq!(n(&stats, "spooled"), 60, "{stats}");
    assert_eq!(kept.len() as u64, 60 - overflowed, "{stats}");
    let newest: Vec<u64> = (60 - kept.len() as u64..60).collect();
    assert_eq!(kept, newest, "the oldest were dropped");

    server.set_mode(Mode::Ok);
    let d = driver(&dir, &server.url(), &[]);
    let arrived = wait_before(&server, kept.len());
    d.shutdown();
    let mut seqs: Vec<u64> = arrived.iter().map(|e| n(&e["properties"], "seq")).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, newest);
}

#[test]
fn a_corrupt_spool_file_is_survived() {
    let dir = temp_dir("spool-corrupt");
    let server = down_server();
    spool_while_down(&dir, &server, 10, &[]);
    let files = spool_files(&dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    // Garbage in the middle, a record cut in half at the end (a crash while appending).
    lines.insert(4, "\u{0}garbage{{{");
    let torn = lines[lines.len() - 1].to_owned();
    let mut corrupt = lines.join("\n");
    corrupt.push('\n');
    corrupt.push_str(&torn[..torn.len() / 2]);
    std::fs::write(&files[0], corrupt).unwrap();

    server.set_mode(Mode::Ok);
    let mut d = driver(&dir, &server.url(), &[]);
    let arrived = wait_before(&server, 10);
    let (stats, _) = d.wait_for("stats", PATIENCE, |s| n(s, "recovered") >= 10);
    let stderr = d.shutdown();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(arrived.len(), 10, "every intact record, once");
    assert_eq!(n(&stats, "recovered"), 10);
    assert!(spool_files(&dir).is_empty());
}

#[test]
fn two_processes_sharing_the_spool_deliver_each_event_exactly_once() {
    let dir = temp_dir("spool-two");
    let server = down_server();
    spool_while_down(&dir, &server, 200, &[]);
    assert_eq!(spooled_events(&dir).len(), 200);
    server.set_mode(Mode::Ok);
    let url = server.url();
    let mut a = driver(&dir, &url, &[]);
    let mut b = driver(&dir, &url, &[]);
    let arrived = wait_before(&server, 200);
    // The server may log a batch before its sender has read the answer: poll the counters.
    let deadline = std::time::Instant::now() + PATIENCE;
    let both = loop {
        let both = n(&a.cmd("stats"), "recovered") + n(&b.cmd("stats"), "recovered");
        if both >= 200 || std::time::Instant::now() > deadline {
            break both;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    a.shutdown();
    b.shutdown();
    let unique: HashSet<_> = arrived.iter().map(uuid_and_time).collect();
    assert_eq!(unique.len(), 200, "left: {:?}", spooled_events(&dir));
    assert_eq!(arrived.len(), 200, "no event sent twice");
    assert_eq!(both, 200);
    assert!(spool_files(&dir).is_empty());
}

#[test]
fn events_still_on_the_wire_or_queued_at_the_shutdown_bound_are_delivered_by_the_next_run() {
    let server = CaptureServer::start(Mode::Hang);
    let dir = temp_dir("spool-bound");
    let mut d = driver(
        &dir,
        &server.url(),
        &[
            ("DRIVER_REQUEST_TIMEOUT_MS", "10000"),
            ("DRIVER_SHUTDOWN_TIMEOUT_MS", "500"),
        ],
    );
    d.cmd("capture 30 before");
    // A batch is on the wire (the server never answers); the rest is queued behind it.
    server.wait_for_attempts(1, PATIENCE);
    d.shutdown();
    let on_disk: HashSet<(String, String)> =
        spooled_events(&dir).iter().map(uuid_and_time).collect();
    assert_eq!(
        on_disk.len(),
        30,
        "the batch on the wire and the queued ones are spooled"
    );

    server.set_mode(Mode::Ok);
    let d = driver(&dir, &server.url(), &[]);
    let arrived = wait_before(&server, 30);
    d.shutdown();
    let delivered: HashSet<_> = arrived.iter().map(uuid_and_time).collect();
    assert_eq!(delivered, on_disk);
    assert_eq!(arrived.len(), 30);
}

/// The worker holds more than a round when PostHog hangs on the first: what it holds behind
/// the round on the wire is spooled too, not only the round and the queue.
#[test]
fn events_the_worker_holds_behind_a_hanging_round_are_spooled_at_the_shutdown_bound() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = temp_dir("spool-held");
    let mut d = driver(
        &dir,
        &server.url(),
        &[
            ("DRIVER_REQUEST_TIMEOUT_MS", "10000"),
            ("DRIVER_SHUTDOWN_TIMEOUT_MS", "500"),
        ],
    );
    d.cmd("flush"); // the start-up pings are delivered: the worker holds nothing
    server.set_mode(Mode::Hang);
    // Thread buffers go to the queue 32 at a time; the worker takes a whole buffer (more than
    // a round of two batches of 10) and hangs on the round's first request.
    d.cmd("capture 70 before");
    server.wait_for_attempts(server.attempts() + 1, PATIENCE);
    d.shutdown();
    let on_disk: HashSet<(String, String)> =
        spooled_events(&dir).iter().map(uuid_and_time).collect();
    assert_eq!(on_disk.len(), 70, "on the wire, held by the worker, queued");
}

#[test]
fn a_short_run_delivers_an_earlier_runs_spool_before_it_exits() {
    let dir = temp_dir("spool-short");
    let server = down_server();
    spool_while_down(&dir, &server, 5, &[]);
    server.set_mode(Mode::Ok);
    // No tick comes round in this run: only the start and the shutdown can send the spool.
    let d = driver(
        &dir,
        &server.url(),
        &[("DRIVER_FLUSH_INTERVAL_MS", "60000")],
    );
    d.shutdown();
    assert_eq!(before_events(&server).len(), 5);
    assert!(spool_files(&dir).is_empty());
}
