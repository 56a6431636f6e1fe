//! End to end: the quickstart example runs as a child process against a real HTTP server on
//! 127.0.0.1 that speaks PostHog's capture API; we assert exactly what arrived.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode, refused_url};
use telemetry_tests::child::{self, Finished};

// This test binary never calls into `quickstart`; without this line the crate would not be
// linked and its events would be missing from this binary's catalog (the linking caveat).
use quickstart as _;

const EXE: &str = env!("CARGO_BIN_EXE_quickstart-e2e");
const LIMIT: Duration = Duration::from_secs(30);
const KEY: &str = "phc_e2e_test_key";

/// The events the demo emits, in the order it emits them (lifecycle pings aside).
const DEMO_EVENTS: &[&str] = &[
    "auth.login",
    "project.created",
    "timer.started",
    "timer.stopped",
    "export.csv",
];

const AUTOMATIC: &[&str] = &[
    "app_version",
    "platform",
    "arch",
    "environment",
    "deployment_method",
    "install_fingerprint",
    "$lib",
    "$lib_version",
    "$process_person_profile",
    "$geoip_disable",
];

fn run(dir: &std::path::Path, env: &[(&str, &str)]) -> Finished {
    child::run(EXE, dir, &[], env, LIMIT)
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

fn user_events(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| !e["event"].as_str().unwrap_or("").starts_with("telemetry."))
        .collect()
}

fn declared_props(name: &str) -> BTreeSet<&'static str> {
    let catalog = telemetry_core::catalog();
    let def = catalog
        .events()
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} is in the catalog of the test binary"));
    def.props.iter().map(|p| p.name).collect()
}

#[test]
fn delivers_exactly_the_declared_events_to_posthog() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = child::temp_dir("posthog");
    let host = server.url();
    let out = run(
        &dir,
        &[
            ("ENABLE_TELEMETRY", "1"),
            ("POSTHOG_API_KEY", KEY),
            ("POSTHOG_HOST", &host),
        ],
    );
    assert!(out.output.status.success(), "stderr: {}", out.stderr());

    let requests = server.requests();
    assert!(
        !requests.is_empty(),
        "nothing arrived; stderr: {}",
        out.stderr()
    );
    for request in &requests {
        assert!(request.path.starts_with("/batch/"), "{}", request.path);
        assert_eq!(request.body["api_key"], KEY);
        assert!(request.gzip, "bodies are gzipped by default");
    }
    let events = server.events();
    let names: Vec<&str> = user_events(&events)
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names, DEMO_EVENTS,
        "one event per successful action, in order"
    );

    let fingerprints: BTreeSet<&str> = user_events(&events)
        .iter()
        .filter(|e| e["event"] != "auth.login")
        .map(|e| e["distinct_id"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), 1, "one anonymous install fingerprint");
    let fingerprint = *fingerprints.iter().next().unwrap();
    assert!(is_hex64(fingerprint), "{fingerprint}");

    for event in user_events(&events) {
        let name = event["event"].as_str().unwrap();
        let props = event["properties"].as_object().unwrap();
        assert_eq!(props["$process_person_profile"], false, "{name}");
        assert_eq!(props["$geoip_disable"], true, "{name}");
        assert_eq!(props["$lib"], "telemetry-core", "{name}");
        assert!(!props.contains_key("$ip"), "{name}");
        let keys: BTreeSet<&str> = props.keys().map(String::as_str).collect();
        let mut expected = declared_props(name);
        expected.extend(AUTOMATIC);
        assert_eq!(
            keys, expected,
            "{name} carries only declared and automatic properties"
        );
        assert!(
            chrono_like(event["timestamp"].as_str().unwrap()),
            "{}",
            event["timestamp"]
        );
        assert!(event["uuid"].as_str().is_some_and(|u| u.len() == 36));
    }

    let login = user_events(&events)[0];
    let login_id = login["distinct_id"].as_str().unwrap();
    assert!(is_hex64(login_id), "the user is sent as a salted hash");
    assert_ne!(login_id, fingerprint);
    assert_ne!(login_id, "42");
    let created = user_events(&events)[1];
    assert_eq!(created["properties"]["project_id"], 1);
    assert_eq!(created["properties"]["billable"], true);
    let body = serde_json::to_string(&events).unwrap();
    assert!(!body.contains("Website relaunch"), "free text never leaves");
    assert!(!body.contains("design review"), "free text never leaves");
    let export = user_events(&events)[4];
    assert_eq!(export["properties"]["export_type"], "csv");
    assert_eq!(export["properties"]["num_rows"], 12);
}

/// RFC 3339 with a `Z` or offset.
fn chrono_like(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.contains('T')
}

#[test]
fn off_by_default_sends_nothing_and_writes_nothing() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = child::temp_dir("off");
    let host = server.url();
    let out = run(&dir, &[("POSTHOG_API_KEY", KEY), ("POSTHOG_HOST", &host)]);
    assert!(out.output.status.success());
    assert!(out.stdout().contains("telemetry off"), "{}", out.stdout());
    // The child has exited, and a delivery waits for the server's answer, which comes after
    // the server counted the request: the count is final.
    assert_eq!(server.attempts(), 0, "no connection is ever made when off");
    assert!(!dir.join("logs").exists());
}

#[test]
fn do_not_track_wins_over_enable_telemetry() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = child::temp_dir("dnt");
    let host = server.url();
    let out = run(
        &dir,
        &[
            ("ENABLE_TELEMETRY", "true"),
            ("DO_NOT_TRACK", "1"),
            ("POSTHOG_API_KEY", KEY),
            ("POSTHOG_HOST", &host),
        ],
    );
    assert!(out.output.status.success());
    assert!(out.stdout().contains("DO_NOT_TRACK"), "{}", out.stdout());
    assert_eq!(server.attempts(), 0);
}

#[test]
fn invalid_enable_value_is_off_with_one_warning_naming_it() {
    let dir = child::temp_dir("invalid");
    let out = run(&dir, &[("ENABLE_TELEMETRY", "perhaps")]);
    assert!(out.output.status.success());
    let stderr = out.stderr();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("ENABLE_TELEMETRY"))
        .collect();
    assert_eq!(warnings.len(), 1, "stderr: {}", out.stderr());
    assert!(warnings[0].contains("perhaps"));
    assert!(out.stdout().contains("telemetry off"));
    assert!(!dir.join("logs").exists());
}

#[test]
fn without_a_key_events_go_to_the_jsonl_file_as_they_would_be_sent() {
    let dir = child::temp_dir("jsonl");
    let out = run(&dir, &[("ENABLE_TELEMETRY", "yes")]);
    assert!(out.output.status.success(), "{}", out.stderr());
    let path = dir.join("logs/telemetry.jsonl");
    assert!(
        out.stdout().contains("logs/telemetry.jsonl"),
        "{}",
        out.stdout()
    );
    let text = std::fs::read_to_string(&path).expect("the JSONL log exists");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let names: Vec<&str> = user_events(&events)
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_EVENTS);
    for e in &events {
        assert!(is_hex64(e["distinct_id"].as_str().unwrap()));
        assert_eq!(e["properties"]["$process_person_profile"], false);
        assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}

#[test]
fn dry_run_prints_each_event_to_stderr_and_sends_nothing() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = child::temp_dir("debug");
    let host = server.url();
    let out = run(
        &dir,
        &[
            ("ENABLE_TELEMETRY", "1"),
            ("TELEMETRY_DEBUG", "1"),
            ("POSTHOG_API_KEY", KEY),
            ("POSTHOG_HOST", &host),
        ],
    );
    assert!(out.output.status.success());
    let stderr = out.stderr();
    let events: Vec<Value> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("telemetry-debug: "))
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let names: Vec<&str> = user_events(&events)
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_EVENTS, "stderr: {stderr}");
    assert_eq!(server.attempts(), 0, "a dry run sends nothing");
    assert!(!dir.join("logs").exists());
}

/// Runs a 200-event demo against `host` and checks it exited, successfully, within 3 s.
fn run_burst_within_bound(tag: &str, host: &str) -> Finished {
    let dir = child::temp_dir(tag);
    let out = run(
        &dir,
        &[
            ("ENABLE_TELEMETRY", "1"),
            ("POSTHOG_API_KEY", KEY),
            ("POSTHOG_HOST", host),
            ("QUICKSTART_EVENTS", "200"),
        ],
    );
    assert!(out.output.status.success(), "{}", out.stderr());
    assert!(
        out.elapsed < Duration::from_secs(3),
        "took {:?}",
        out.elapsed
    );
    out
}

#[test]
fn exits_within_three_seconds_when_posthog_is_down() {
    let out = run_burst_within_bound("down", &refused_url());
    let failures = out
        .stderr()
        .lines()
        .filter(|l| l.contains("delivery failed"))
        .count();
    assert!(failures <= 1, "failure reported once: {}", out.stderr());
}

#[test]
fn exits_within_three_seconds_when_posthog_hangs() {
    let server = CaptureServer::start(Mode::Hang);
    let out = run_burst_within_bound("hang", &server.url());
    assert!(server.attempts() >= 1, "it did try to deliver");
    assert!(
        out.stdout().contains("dropped="),
        "the demo prints its counters: {}",
        out.stdout()
    );
}

fn lifecycle(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event"].as_str().unwrap_or("").starts_with("telemetry."))
        .collect()
}

#[test]
fn restarts_send_install_once_then_update_when_the_version_changes() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = child::temp_dir("restart");
    let host = server.url();
    let base = [
        ("ENABLE_TELEMETRY", "1"),
        ("POSTHOG_API_KEY", KEY),
        ("POSTHOG_HOST", host.as_str()),
    ];
    let with_version = |v: &'static str| {
        let mut env = base.to_vec();
        env.push(("APP_VERSION", v));
        env
    };

    assert!(run(&dir, &with_version("1.0.0")).output.status.success());
    let first = server.events();
    let names: Vec<&str> = lifecycle(&first)
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["telemetry.install", "telemetry.health"]);
    let install = lifecycle(&first)[0];
    let props = install["properties"].as_object().unwrap();
    for key in [
        "platform",
        "arch",
        "rust_version",
        "environment",
        "deployment_method",
        "ci",
    ] {
        assert!(props.contains_key(key), "install carries {key}: {props:?}");
    }
    assert_eq!(props["app_version"], "1.0.0");
    let fingerprint = install["distinct_id"].as_str().unwrap().to_owned();

    // Same version again: nothing new from the lifecycle (health is daily).
    assert!(run(&dir, &with_version("1.0.0")).output.status.success());
    let second = server.events();
    assert_eq!(lifecycle(&second).len(), 2, "no second install, no update");

    // A new version: one update with both versions, same fingerprint.
    assert!(run(&dir, &with_version("1.1.0")).output.status.success());
    let third = server.events();
    let updates: Vec<&Value> = lifecycle(&third)
        .into_iter()
        .filter(|e| e["event"] == "telemetry.update")
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["properties"]["old_version"], "1.0.0");
    assert_eq!(updates[0]["properties"]["new_version"], "1.1.0");
    assert_eq!(updates[0]["distinct_id"], fingerprint.as_str());

    // Neither the salt nor the raw install id ever left the process.
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state/install.json")).unwrap())
            .unwrap();
    let salt = state["salt"].as_str().unwrap();
    let install_id = state["install_id"].as_str().unwrap();
    let wire = serde_json::to_string(
        &server
            .requests()
            .iter()
            .map(|r| &r.body)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(!wire.contains(salt));
    assert!(!wire.contains(install_id));
}
