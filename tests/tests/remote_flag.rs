//! The remote kill switch against a loopback server that speaks PostHog's `/flags` API as
//! posthog-rs calls it (and the capture API on the same host): a disabled flag stops everything
//! including lifecycle pings, a payload drops listed events, an unknown flag or a failing
//! service keeps the persisted decision (else on), the flag is followed while the process runs,
//! events wait for the first answer, and the request carries only the fingerprint and context.
//!
//! The pipeline is process-global: the tests take turns.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_core::__private::internals::environment::EnvironmentInfo;
use telemetry_core::DecisionSource;
use telemetry_core::{EnvConfig, Reason, Switch};
use telemetry_core::{Stats, Telemetry, TelemetryBuilder, track_event};
use telemetry_tests::capture_server::refused_url;
use telemetry_tests::child::temp_dir;
use telemetry_tests::flags_server::{Flag, FlagsServer};

const FLAG: &str = "telemetry-kill-switch";
const WAIT: Duration = Duration::from_secs(10);

static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// An event the flag leaves alone.
#[track_event("remote.kept", props(n = n))]
fn kept(n: u64) -> u64 {
    n
}

/// An event a payload drops.
#[track_event("remote.dropped", props(n = n))]
fn dropped(n: u64) -> u64 {
    n
}

fn builder(host: &str, dir: &Path) -> TelemetryBuilder {
    Telemetry::builder()
        .app("remote-flag", "2.3.4")
        .env(EnvConfig {
            enable: Some(Switch::On),
            ..EnvConfig::default()
        })
        .posthog("phc_remote_test", Some(host.to_owned()))
        .state_dir(dir)
        .remote_flag(FLAG)
        .flush_interval(Duration::from_millis(50))
        .gzip(false)
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn count(events: &[Value], name: &str) -> usize {
    events.iter().filter(|e| e["event"] == name).count()
}

fn stats() -> Stats {
    telemetry_core::stats()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn persisted_remote(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("install.json")).expect("install state");
    serde_json::from_str::<Value>(&text).unwrap()["remote"].clone()
}

#[test]
fn a_disabled_flag_sends_nothing_not_even_lifecycle_pings_and_counts_the_drops() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::off());
    let dir = temp_dir("remote-off");
    let before = stats();
    let telemetry = builder(&server.url(), &dir).install();
    for n in 0..5 {
        kept(n);
    }
    assert!(telemetry.flush(), "flush finished");
    let after = stats();
    let status = telemetry.status();
    telemetry.shutdown();

    assert!(!server.flag_requests().is_empty(), "the flag was asked");
    assert_eq!(
        server.capture_requests(),
        0,
        "nothing was sent: {:?}",
        server.events()
    );
    assert_eq!(after.dropped_remotely - before.dropped_remotely, 5);
    assert_eq!(after.sent, before.sent);
    assert!(!status.enabled);
    assert_eq!(status.reason_code, Reason::Remote(FLAG.into()));
    assert!(
        status.reason.contains("disabled remotely"),
        "{}",
        status.reason
    );
    let remote = status.remote.expect("remote status");
    assert_eq!(remote.flag, FLAG);
    assert_eq!(remote.state, "off");
    assert!(remote.disabled);
    assert_eq!(remote.source, DecisionSource::FlagsService);
    assert!(remote.evaluated_at.is_some() && remote.decided_at.is_some());
    assert!(
        status.last_install.is_none(),
        "no install ping was recorded"
    );
    let record = persisted_remote(&dir);
    assert_eq!(record["flag"], FLAG);
    assert_eq!(record["enabled"], false);
}

#[test]
fn a_payload_drops_the_listed_events_only() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::dropping(&["remote.dropped"]));
    let dir = temp_dir("remote-drop");
    let before = stats();
    let telemetry = builder(&server.url(), &dir).install();
    for n in 0..3 {
        kept(n);
        dropped(n);
    }
    assert!(telemetry.flush());
    let after = stats();
    let status = telemetry.status();
    telemetry.shutdown();

    let events = server.events();
    assert_eq!(count(&events, "remote.kept"), 3, "{:?}", names(&events));
    assert_eq!(count(&events, "remote.dropped"), 0);
    assert_eq!(count(&events, "telemetry.install"), 1, "lifecycle pings go");
    assert_eq!(after.dropped_remotely - before.dropped_remotely, 3);
    assert!(status.enabled);
    let remote = status.remote.unwrap();
    assert_eq!(remote.state, "on");
    assert_eq!(remote.dropped_events, ["remote.dropped"]);
    assert_eq!(
        persisted_remote(&dir)["drop"],
        serde_json::json!(["remote.dropped"])
    );
}

#[test]
fn the_legacy_answer_shape_posthog_rs_parses_works_too() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::dropping(&["remote.dropped"]));
    server.set_legacy(true);
    let dir = temp_dir("remote-legacy");
    let telemetry = builder(&server.url(), &dir).install();
    kept(1);
    dropped(1);
    assert!(telemetry.flush());
    telemetry.shutdown();
    let events = server.events();
    assert_eq!(count(&events, "remote.kept"), 1, "{:?}", names(&events));
    assert_eq!(count(&events, "remote.dropped"), 0);
}

#[test]
fn an_unknown_flag_or_a_failing_service_keeps_the_persisted_decision_else_on() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::off());
    let dir = temp_dir("remote-persisted");
    // First run: the flag is off, and that is persisted.
    let telemetry = builder(&server.url(), &dir).install();
    assert!(telemetry.flush());
    telemetry.shutdown();
    assert_eq!(persisted_remote(&dir)["enabled"], false);

    // The flag is deleted: the persisted "off" still holds.
    server.set_flag(Flag::Unknown);
    let before = stats();
    let telemetry = builder(&server.url(), &dir).install();
    kept(1);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    assert_eq!(stats().dropped_remotely - before.dropped_remotely, 1);
    assert_eq!(server.capture_requests(), 0);
    let remote = status.remote.unwrap();
    assert_eq!(
        (remote.state, remote.source),
        ("off", DecisionSource::Persisted)
    );
    assert!(
        remote
            .last_error
            .unwrap()
            .contains("does not know the flag")
    );

    // The service fails (HTTP 500): still the persisted decision.
    server.set_flag(Flag::Status(500));
    let before = stats();
    let telemetry = builder(&server.url(), &dir).install();
    kept(2);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    assert_eq!(stats().dropped_remotely - before.dropped_remotely, 1);
    assert_eq!(server.capture_requests(), 0);
    assert!(status.remote.unwrap().last_error.is_some());

    // A fresh install state without a decision: unknown means on.
    server.set_flag(Flag::Unknown);
    let fresh = temp_dir("remote-fresh");
    let telemetry = builder(&server.url(), &fresh).install();
    kept(3);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    let events = server.events();
    let sent: Vec<_> = events
        .iter()
        .filter(|e| e["event"] == "remote.kept")
        .collect();
    assert_eq!(sent.len(), 1, "{:?}", names(&events));
    assert_eq!(sent[0]["properties"]["n"], 3);
    let remote = status.remote.unwrap();
    assert_eq!(
        (remote.state, remote.source),
        ("on", DecisionSource::Default)
    );
    assert!(
        persisted_remote(&fresh).is_null(),
        "nothing decided, nothing persisted"
    );
}

#[test]
fn an_unreachable_flags_service_uses_the_persisted_decision_else_on() {
    let _turn = turn();
    let host = refused_url();
    // No decision recorded: on, so the events are attempted (and fail: nothing listens).
    let fresh = temp_dir("remote-unreachable-fresh");
    let before = stats();
    let telemetry = builder(&host, &fresh).install();
    kept(1);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    let after = stats();
    assert_eq!(after.dropped_remotely, before.dropped_remotely);
    assert!(after.failed > before.failed, "the events were attempted");
    let remote = status.remote.unwrap();
    assert_eq!(
        (remote.state, remote.source),
        ("on", DecisionSource::Default)
    );
    assert!(remote.last_error.is_some());

    // A decision "off" recorded earlier (by a run that reached the service): it holds.
    let server = FlagsServer::start(FLAG, Flag::off());
    let dir = temp_dir("remote-unreachable-off");
    let telemetry = builder(&server.url(), &dir).install();
    assert!(telemetry.flush());
    telemetry.shutdown();
    let before = stats();
    let telemetry = builder(&host, &dir).install();
    kept(2);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    let after = stats();
    assert_eq!(after.dropped_remotely - before.dropped_remotely, 1);
    assert_eq!(after.failed, before.failed, "nothing was attempted");
    assert_eq!(status.remote.unwrap().source, DecisionSource::Persisted);
}

#[test]
fn the_flag_is_followed_while_the_process_runs() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::on());
    let dir = temp_dir("remote-live");
    let telemetry = builder(&server.url(), &dir)
        .remote_flag_interval(Duration::from_millis(100))
        .install();
    let remote_state = |t: &Telemetry| t.status().remote.unwrap().state;

    kept(1);
    assert!(telemetry.flush());
    assert_eq!(count(&server.events(), "remote.kept"), 1);

    server.set_flag(Flag::off());
    wait_until("the flag to turn off", || remote_state(&telemetry) == "off");
    assert!(!telemetry.is_enabled());
    let before = stats();
    kept(2);
    assert!(telemetry.flush());
    assert_eq!(stats().dropped_remotely - before.dropped_remotely, 1);

    server.set_flag(Flag::on());
    wait_until("the flag to turn on", || remote_state(&telemetry) == "on");
    assert!(telemetry.is_enabled());
    kept(3);
    assert!(telemetry.flush());
    telemetry.shutdown();

    let seqs: Vec<_> = server
        .events()
        .iter()
        .filter(|e| e["event"] == "remote.kept")
        .map(|e| e["properties"]["n"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 3], "the event captured while off was not sent");
    assert!(server.flag_requests().len() >= 3, "evaluated periodically");
}

#[test]
fn events_are_held_until_the_first_answer_then_released() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::on());
    server.hold();
    let dir = temp_dir("remote-hold");
    let telemetry = builder(&server.url(), &dir)
        .remote_flag_hold(Duration::from_secs(30))
        .shutdown_timeout(Duration::from_millis(300))
        .install();
    for n in 0..3 {
        kept(n);
    }
    assert_eq!(server.wait_for_flag_requests(1, WAIT), 1);
    // The worker cannot finish a flush while it waits for the flag: nothing may be sent yet.
    assert!(!telemetry.flush(), "held: the flush cannot finish");
    assert_eq!(
        server.capture_requests(),
        0,
        "nothing sent before the answer"
    );
    assert_eq!(telemetry.status().remote.unwrap().state, "pending");

    server.release();
    let events = server.wait_for_events(5, WAIT);
    assert_eq!(count(&events, "remote.kept"), 3, "{:?}", names(&events));
    assert_eq!(count(&events, "telemetry.install"), 1);
    assert_eq!(telemetry.status().remote.unwrap().state, "on");
    telemetry.shutdown();
}

#[test]
fn the_hold_is_bounded_when_the_service_does_not_answer() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::on());
    server.hold();
    let dir = temp_dir("remote-hold-bounded");
    let telemetry = builder(&server.url(), &dir)
        .remote_flag_hold(Duration::from_millis(300))
        .install();
    kept(7);
    // The flush waits out the hold (300 ms), then the fallback (on) applies.
    assert!(telemetry.flush());
    let events = server.events();
    assert_eq!(count(&events, "remote.kept"), 1, "{:?}", names(&events));
    server.release();
    telemetry.shutdown();
}

#[test]
fn the_request_carries_only_the_fingerprint_and_the_context() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::on());
    let dir = temp_dir("remote-body");
    let telemetry = builder(&server.url(), &dir).install();
    assert!(telemetry.flush());
    let fingerprint_short = telemetry.status().fingerprint_short;
    telemetry.shutdown();

    let install = server
        .events()
        .into_iter()
        .find(|e| e["event"] == "telemetry.install")
        .expect("install ping");
    let fingerprint = install["distinct_id"].as_str().unwrap().to_owned();
    assert!(fingerprint.starts_with(&fingerprint_short));

    let requests = server.flag_requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.path, "/flags/?v=2");
        let body = request.body.as_object().expect("JSON body");
        let mut keys: Vec<_> = body.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "api_key",
                "disable_geoip",
                "distinct_id",
                "person_properties"
            ]
        );
        assert_eq!(body["api_key"], "phc_remote_test");
        assert_eq!(body["disable_geoip"], true);
        assert_eq!(body["distinct_id"], fingerprint.as_str());
        let person = body["person_properties"].as_object().unwrap();
        let mut names: Vec<_> = person.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "app_version",
                "arch",
                "deployment_method",
                "environment",
                "platform"
            ]
        );
        // The same values the install ping carries.
        for (name, value) in person {
            assert_eq!(&install["properties"][name], value, "{name}");
        }
        let env = EnvironmentInfo::current();
        assert_eq!(person["app_version"], "2.3.4");
        assert_eq!(person["platform"], env.platform.as_str());
        assert_eq!(person["environment"], env.environment.as_str());
    }
}

#[test]
fn the_flag_never_turns_telemetry_on_against_local_consent() {
    let _turn = turn();
    let server = FlagsServer::start(FLAG, Flag::on());
    let dir = temp_dir("remote-consent");
    let telemetry = builder(&server.url(), &dir)
        .env(EnvConfig {
            enable: Some(Switch::Off),
            ..EnvConfig::default()
        })
        .install();
    kept(1);
    assert!(telemetry.flush());
    let status = telemetry.status();
    telemetry.shutdown();
    assert!(!status.enabled);
    assert_eq!(status.reason_code, Reason::EnvDisabled);
    // No worker, so no poller: the flags service was never asked, nothing was sent.
    assert!(server.flag_requests().is_empty());
    assert_eq!(server.capture_requests(), 0);
}

#[test]
fn a_binary_configured_only_through_the_environment_obeys_the_flag() {
    use telemetry_tests::child::DriverProcess;
    const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");
    let server = FlagsServer::start(FLAG, Flag::off());
    let dir = temp_dir("remote-env");
    let state = dir.join("state").to_string_lossy().into_owned();
    let url = server.url();
    let mut driver = DriverProcess::start(
        EXE,
        &dir,
        &[
            ("ENABLE_TELEMETRY", "1"),
            ("POSTHOG_API_KEY", "phc_env"),
            ("POSTHOG_HOST", url.as_str()),
            ("TELEMETRY_STATE_DIR", state.as_str()),
            ("TELEMETRY_REMOTE_FLAG", FLAG),
        ],
    );
    driver.cmd("capture 4 before");
    assert_eq!(driver.cmd("flush")["flushed"], true);
    let status = driver.cmd("status");
    let stats = driver.cmd("stats");
    driver.shutdown();
    assert_eq!(status["enabled"], false, "{status}");
    assert_eq!(status["remote"]["flag"], FLAG);
    assert_eq!(status["remote"]["state"], "off");
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("disabled remotely")
    );
    assert_eq!(stats["dropped_remotely"], 4, "{stats}");
    assert_eq!(server.capture_requests(), 0);
    assert_eq!(server.flag_requests()[0].body["api_key"], "phc_env");
}
