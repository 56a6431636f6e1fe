//! The audit trail (issue 11.5): every delivered, spooled, recovered or dropped event is a
//! `tracing` event with target `telemetry` at DEBUG, carrying the event name, its properties
//! (a JSON string) and the outcome (with a `reason` when PostHog rejected it for good), and
//! never the API key, the salt or the raw install id.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use telemetry_core::EnvConfig;
use telemetry_core::SpoolLimits;
use telemetry_core::{Telemetry, track_event};
use telemetry_tests::capture_server::{CaptureServer, Mode};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

const KEY: &str = "phc_audit_secret_key";

/// A report was exported.
#[track_event("audit.exported", props(rows = rows))]
fn exported(rows: u64) -> u64 {
    rows
}

type Records = Arc<Mutex<Vec<BTreeMap<String, String>>>>;

/// Collects every event's target, level and fields.
struct Collect(Records);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Collect {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        fields.insert("@target".into(), event.metadata().target().to_owned());
        fields.insert("@level".into(), event.metadata().level().to_string());
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(fields);
    }
}

fn audit(records: &Records, outcome: &str) -> Vec<BTreeMap<String, String>> {
    records
        .lock()
        .unwrap()
        .iter()
        .filter(|r| {
            r["@target"] == "telemetry" && r.get("outcome").map(String::as_str) == Some(outcome)
        })
        .cloned()
        .collect()
}

fn wait(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "waited for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn delivered_spooled_recovered_and_dropped_events_are_in_the_audit_trail() {
    let records: Records = Arc::default();
    // Global: the events come from the pipeline's worker thread.
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(Collect(records.clone())),
    )
    .unwrap();

    let server = CaptureServer::start(Mode::Ok);
    let state = tempfile_dir();
    let telemetry = Telemetry::builder()
        .app("audit-test", "1.0.0")
        .env(EnvConfig {
            enable: Some(telemetry_core::Switch::On),
            posthog_api_key: Some(KEY.into()),
            posthog_host: Some(server.url()),
            state_dir: Some(state.clone()),
            ..EnvConfig::default()
        })
        .batch_size(5)
        .flush_interval(Duration::from_millis(50))
        .request_timeout(Duration::from_secs(1))
        .spool_limits(SpoolLimits {
            max_bytes: 3_000,
            ..SpoolLimits::default()
        })
        .install();

    exported(1);
    assert!(telemetry.flush());
    let delivered = audit(&records, "delivered");
    let first = delivered
        .iter()
        .find(|r| r["event"] == "audit.exported")
        .unwrap_or_else(|| panic!("{delivered:?}"));
    assert_eq!(first["@level"], "DEBUG");
    let props: Value = serde_json::from_str(&first["properties"]).expect("properties as JSON");
    assert_eq!(props["rows"], 1);
    assert_eq!(props["$process_person_profile"], false);
    assert!(first.contains_key("uuid"));

    server.set_mode(Mode::Status(503));
    for rows in 2..=21 {
        exported(rows);
    }
    telemetry.flush();
    wait("20 spooled", || telemetry_core::stats().spooled >= 20);
    let spooled = audit(&records, "spooled");
    assert_eq!(spooled.len(), 20, "{spooled:?}");
    let dropped = audit(&records, "dropped");
    assert!(
        dropped.iter().any(|r| r["reason"] == "spool size bound"),
        "the size bound dropped some, and said so: {dropped:?}"
    );

    server.set_mode(Mode::Ok);
    let kept = telemetry.status().spool_pending;
    assert!(kept > 0 && kept < 20, "{kept}");
    // A live event that gets through tells the worker PostHog is back: the spool goes next,
    // without waiting for its backoff.
    exported(100);
    assert!(telemetry.flush());
    wait("the spool to be recovered", || {
        audit(&records, "recovered").len() as u64 >= kept
    });

    // Rejected for good (401): dropped, not spooled, and the trail says why.
    server.set_mode(Mode::Status(401));
    let spooled_before = telemetry_core::stats().spooled;
    exported(99);
    assert!(telemetry.flush());
    let rejected: Vec<_> = audit(&records, "dropped")
        .into_iter()
        .filter(|r| r.get("event").is_some_and(|e| e == "audit.exported"))
        .collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(
        rejected[0]
            .get("reason")
            .is_some_and(|r| r.contains("Unauthorized")),
        "{rejected:?}"
    );
    let props: Value = serde_json::from_str(&rejected[0]["properties"]).unwrap();
    assert_eq!(props["rows"], 99);
    assert_eq!(telemetry_core::stats().spooled, spooled_before);
    telemetry.shutdown();

    // Never a secret: not the key, not the salt, not the raw install id.
    let install: Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("install.json")).unwrap())
            .unwrap();
    let salt = install["salt"].as_str().unwrap();
    let install_id = install["install_id"].as_str().unwrap();
    let all = records.lock().unwrap();
    let trail: Vec<_> = all.iter().filter(|r| r["@target"] == "telemetry").collect();
    assert!(trail.len() >= 21);
    for record in trail {
        for value in record.values() {
            for secret in [KEY, salt, install_id] {
                assert!(!value.contains(secret), "{record:?}");
            }
        }
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    telemetry_tests::child::temp_dir("spool-audit").join("state")
}
