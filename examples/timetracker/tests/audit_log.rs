//! The telemetry audit trail in the app's JSON logs: with `TIMETRACKER_LOG=info,telemetry=debug`
//! every event the toolkit delivers is one more JSON line (target `telemetry`, the event name,
//! its properties, the outcome); with the default filter there is none.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;

const BIN: &str = env!("CARGO_BIN_EXE_timetracker");

/// Runs the server with telemetry on (no PostHog key: the JSONL sink) until it is up, stops it
/// with SIGINT, and returns its stdout as JSON lines.
fn run(log: Option<&str>) -> Vec<serde_json::Value> {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "timetracker-audit-{}-{}",
        log.is_some(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(&dir)
        .args(["--port", "0"])
        .env("TIMETRACKER_DATA_DIR", dir.join("data"))
        .env("ENABLE_TELEMETRY", "1")
        .env_remove("DO_NOT_TRACK")
        .env_remove("POSTHOG_API_KEY")
        .env_remove("TELEMETRY_STATE_DIR")
        .env_remove("TELEMETRY_DEBUG")
        .env_remove("TIMETRACKER_LOG")
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(log) = log {
        cmd.env("TIMETRACKER_LOG", log);
    }
    let mut child = cmd.spawn().unwrap();
    process::wait_for_url(&mut child);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The install ping is written to the JSONL log by the worker: wait for it.
    let jsonl = dir.join("logs").join("telemetry.jsonl");
    while !std::fs::read_to_string(&jsonl).is_ok_and(|t| t.contains("telemetry.install")) {
        assert!(
            Instant::now() < deadline,
            "no install ping in {}",
            jsonl.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    process::interrupt(&mut child, Duration::from_secs(15));
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn the_audit_trail_is_in_the_json_logs_only_when_asked() {
    let lines = run(Some("info,telemetry=debug"));
    let install = lines
        .iter()
        .find(|l| l["target"] == "telemetry" && l["event"] == "telemetry.install")
        .unwrap_or_else(|| panic!("no audit line for the install ping in {lines:#?}"));
    assert_eq!(install["level"], "DEBUG");
    assert_eq!(install["outcome"], "delivered");
    let props: serde_json::Value =
        serde_json::from_str(install["properties"].as_str().unwrap()).unwrap();
    assert_eq!(props["$process_person_profile"], false);
    assert!(
        lines.iter().any(|l| l["message"] == "timetracker started"),
        "the info logs are still there"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l["level"] == "DEBUG" && l["target"] != "telemetry"),
        "only the telemetry target is at debug"
    );

    let quiet = run(None);
    assert!(
        !quiet.iter().any(|l| l["target"] == "telemetry"),
        "quiet by default: {quiet:#?}"
    );
}
