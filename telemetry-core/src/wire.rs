//! Rendering a [`Capture`] into the event exactly as it is sent.
//!
//! Every sink (PostHog, the JSONL file, the dry-run stderr sink, test recorders) receives the
//! same [`WireEvent`], so what a user sees locally is what PostHog would get.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::capture::Capture;
use crate::definition::EventDef;
use crate::environment::EnvironmentInfo;
use crate::fingerprint::Identity;
use crate::property::PropValue;

/// The `$lib` value of every event.
pub const LIB_NAME: &str = "telemetry-core";
/// The `$lib_version` value of every event.
pub const LIB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Properties the toolkit adds to every event on its own, with what each means.
///
/// The install's context (`app_version` to `install_fingerprint`) is the same on every event of
/// an install, user events included, so PostHog can build cohorts by version or platform and
/// funnels per install by aggregating on `install_fingerprint`, with person profiles off.
pub const AUTOMATIC_PROPERTIES: &[(&str, &str)] = &[
    (
        "app_version",
        "The version of the application that sent the event.",
    ),
    (
        "platform",
        "Operating system family of the install, e.g. \"linux\", \"macos\", \"windows\".",
    ),
    (
        "arch",
        "CPU architecture of the install, e.g. \"x86_64\", \"aarch64\".",
    ),
    (
        "environment",
        "Deployment environment of the install: \"production\" unless APP_ENV/RUST_ENV/ENVIRONMENT say otherwise.",
    ),
    (
        "deployment_method",
        "\"container\" when the install runs in a container, else \"native\".",
    ),
    (
        "install_fingerprint",
        "The install's anonymous fingerprint (its 64-hex distinct id), also on events sent under \
         a hashed user id: aggregate on it for per-install funnels and cohorts.",
    ),
    (
        "$lib",
        "The library that sent the event: always \"telemetry-core\".",
    ),
    ("$lib_version", "The version of telemetry-core."),
    (
        "$process_person_profile",
        "Always false: PostHog creates no person profile for the event.",
    ),
    (
        "$geoip_disable",
        "Always true: PostHog does not look up a location from the IP address.",
    ),
];

/// The install's context: what every event carries besides its own properties, computed once
/// per install (the version once sanitised, the environment once detected), never per event.
///
/// ```
/// use telemetry_core::__private::internals::environment::EnvironmentInfo;
/// use telemetry_core::__private::internals::wire::InstallContext;
///
/// let ctx = InstallContext::new("1.2.0", EnvironmentInfo::current());
/// let names: Vec<_> = ctx.properties().iter().map(|(name, _)| *name).collect();
/// assert_eq!(names, ["app_version", "platform", "arch", "environment", "deployment_method"]);
/// assert_eq!(ctx.properties()[0].1, "1.2.0");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct InstallContext {
    properties: [(&'static str, Value); 5],
}

impl InstallContext {
    /// The context of an install running `app_version` (already sanitised) in `env`.
    pub fn new(app_version: &str, env: &EnvironmentInfo) -> InstallContext {
        InstallContext {
            properties: [
                ("app_version", Value::from(app_version)),
                ("platform", Value::from(env.platform.as_str())),
                ("arch", Value::from(env.arch.as_str())),
                ("environment", Value::from(env.environment.as_str())),
                (
                    "deployment_method",
                    Value::from(env.deployment_method.as_str()),
                ),
            ],
        }
    }

    /// The context properties in a fixed order (without `install_fingerprint`, which follows
    /// the identity: see [`Telemetry::forget`](crate::Telemetry::forget)).
    pub fn properties(&self) -> &[(&'static str, Value)] {
        &self.properties
    }
}

/// One event as it goes over the wire (and into the JSONL log).
///
/// ```
/// use telemetry_core::sink::WireEvent;
/// let line = r#"{"event":"report.exported","distinct_id":"ab12","uuid":"0190c8d2-7a40-7000-8000-000000000000","timestamp":"2026-01-01T00:00:00Z","properties":{"format":"csv"}}"#;
/// let event: WireEvent = serde_json::from_str(line).unwrap(); // one line of the JSONL log
/// assert_eq!(event.event, "report.exported");
/// assert_eq!(event.properties["format"], "csv");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    /// The event name.
    pub event: String,
    /// The install fingerprint, or the salted hash of the per-call subject.
    pub distinct_id: String,
    /// A UUIDv7 for de-duplication.
    pub uuid: String,
    /// When it happened, RFC 3339 in UTC.
    pub timestamp: String,
    /// Declared and automatic properties.
    pub properties: Map<String, Value>,
}

/// Where rendered properties go: a [`WireEvent`]'s map, or (the PostHog sink) the event
/// posthog-rs sends, rendered straight from the capture. Which properties an event carries is
/// decided once, in [`render_properties`], whatever the target.
pub(crate) trait Properties {
    /// Sets `key` to `value`.
    fn put(&mut self, key: &'static str, value: Value);

    /// Sets `key` to a copy of `value`.
    fn put_ref(&mut self, key: &'static str, value: &Value) {
        self.put(key, value.clone());
    }

    /// Sets `key` to a string.
    fn put_str(&mut self, key: &'static str, value: &str) {
        self.put(key, Value::String(value.to_owned()));
    }
}

impl Properties for Map<String, Value> {
    fn put(&mut self, key: &'static str, value: Value) {
        self.insert(key.to_owned(), value);
    }
}

/// Renders the declared properties of `def` from their captured values.
pub(crate) fn render_props(
    def: &EventDef,
    values: &[PropValue],
    identity: &Identity,
    into: &mut impl Properties,
) {
    for (prop, value) in def.props.iter().zip(values) {
        match value {
            PropValue::Str(text) => into.put_str(prop.name, text.as_str()),
            PropValue::Hashed(input) => {
                into.put(prop.name, Value::String(identity.hash(&input.bytes())))
            }
            other => into.put(prop.name, render_value(other)),
        }
    }
}

fn render_value(value: &PropValue) -> Value {
    match value {
        PropValue::Null => Value::Null,
        PropValue::Bool(b) => Value::Bool(*b),
        PropValue::Int(i) => Value::from(*i),
        PropValue::UInt(u) => Value::from(*u),
        PropValue::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        // Rendered by `render_props` without an intermediate value.
        PropValue::Str(text) => Value::String(text.as_str().to_owned()),
        PropValue::Hashed(_) => Value::Null,
    }
}

/// All properties of a captured event: its declared properties, the toolkit's extras
/// (lifecycle events), then the install's context and the automatic properties.
pub(crate) fn render_properties(
    capture: &Capture,
    identity: &Identity,
    context: &InstallContext,
    into: &mut impl Properties,
) {
    render_props(capture.def, &capture.props, identity, into);
    for (key, value) in &capture.extra {
        into.put_ref(key, value);
    }
    for (key, value) in context.properties() {
        into.put_ref(key, value);
    }
    into.put_str("install_fingerprint", identity.distinct_id());
    into.put_str("$lib", LIB_NAME);
    into.put_str("$lib_version", LIB_VERSION);
    into.put("$process_person_profile", Value::Bool(false));
    into.put("$geoip_disable", Value::Bool(true));
}

/// The event's `distinct_id`: the salted hash of its subject, or the install's fingerprint.
pub(crate) fn distinct_id(capture: &Capture, identity: &Identity) -> String {
    match &capture.distinct_id {
        Some(subject) => identity.hash(&subject.bytes()),
        None => identity.distinct_id().to_owned(),
    }
}

/// The event's uuid: the capture's fixed one, else a fresh UUIDv7. The worker fixes one on
/// every capture before it is sent, so a batch rendered again (for the spool) keeps its ids.
pub(crate) fn uuid(capture: &Capture) -> uuid::Uuid {
    capture.uuid.unwrap_or_else(|| event_uuid(capture.at))
}

/// The event's time, to the microsecond (what the wire's RFC 3339 text carries).
pub(crate) fn timestamp(capture: &Capture) -> chrono::DateTime<chrono::Utc> {
    let micros = capture
        .at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Renders a capture for the wire (see [`render_properties`] for what it carries).
pub(crate) fn render(
    capture: &Capture,
    identity: &Identity,
    context: &InstallContext,
) -> WireEvent {
    let mut properties = Map::new();
    render_properties(capture, identity, context, &mut properties);
    WireEvent {
        event: capture.def.name.to_owned(),
        distinct_id: distinct_id(capture, identity),
        uuid: uuid(capture).to_string(),
        timestamp: timestamp(capture).to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        properties,
    }
}

/// A UUIDv7 (for PostHog's de-duplication) from the capture time and a per-thread generator
/// seeded once from the OS. `Uuid::now_v7()` asks the OS for fresh randomness on every call: a
/// system call that was about a twentieth of the worker's time per event (measured with
/// `cargo bench -p telemetry-tests --bench e2e` under `perf`). 74 random bits per id keep ids
/// unique; they need not be unpredictable.
pub(crate) fn event_uuid(at: std::time::SystemTime) -> uuid::Uuid {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(seed());
    }
    let millis = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let (a, b) = STATE.with(|s| (splitmix64(s), splitmix64(s)));
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&a.to_le_bytes());
    random[8..].copy_from_slice(&b.to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        // Practically never; the clock and this thread's stack address still differ per thread.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        return nanos ^ (&bytes as *const _ as u64).rotate_left(32);
    }
    u64::from_le_bytes(bytes)
}

/// SplitMix64: one step of a small, fast generator with a full 2^64 period.
fn splitmix64(state: &std::cell::Cell<u64>) -> u64 {
    let mut z = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
    state.set(z);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
impl WireEvent {
    /// A small event for sink tests.
    pub(crate) fn sample() -> WireEvent {
        WireEvent {
            event: "doc.opened".into(),
            distinct_id: "a".repeat(64),
            uuid: "01890000-0000-7000-8000-000000000000".into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
            properties: serde_json::Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::HashInput;

    #[test]
    fn a_user_event_carries_the_install_context_and_fingerprint() {
        let identity = Identity::new(vec![3; 32], "install-1");
        let env = EnvironmentInfo::detect_with(
            |name| (name == "APP_ENV").then(|| "staging".to_owned()),
            |_| true,
            |_| None,
        );
        let context = InstallContext::new("4.5.6", &env);
        let capture = Capture {
            def: &crate::lifecycle::events::HEALTH,
            props: Default::default(),
            distinct_id: Some(HashInput::Text("user-7".into())),
            at: std::time::SystemTime::now(),
            extra: Vec::new(),
            uuid: None,
        };
        let event = render(&capture, &identity, &context);
        assert_eq!(event.distinct_id, identity.hash(b"user-7"));
        assert_ne!(event.distinct_id, identity.distinct_id());
        let p = &event.properties;
        assert_eq!(p["install_fingerprint"], identity.distinct_id());
        assert_eq!(p["app_version"], "4.5.6");
        assert_eq!(p["environment"], "staging");
        assert_eq!(p["deployment_method"], "container");
        assert_eq!(p["platform"], std::env::consts::OS);
        assert_eq!(p["arch"], std::env::consts::ARCH);
        assert_eq!(p["$process_person_profile"], false);
        assert_eq!(p["$geoip_disable"], true);
        assert!(!p.contains_key("$ip"));
        // Exactly the automatic properties: the definition declares none.
        let mut names: Vec<_> = p.keys().map(String::as_str).collect();
        names.sort_unstable();
        let mut automatic: Vec<_> = AUTOMATIC_PROPERTIES.iter().map(|(n, _)| *n).collect();
        automatic.sort_unstable();
        assert_eq!(names, automatic);
    }

    #[test]
    fn event_uuids_are_unique_version_7_and_carry_the_capture_time() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_780_000_000_123);
        let ids: std::collections::HashSet<uuid::Uuid> =
            (0..10_000).map(|_| super::event_uuid(at)).collect();
        assert_eq!(ids.len(), 10_000);
        for uuid in ids.iter().take(10) {
            assert_eq!(uuid.get_version_num(), 7);
            let (secs, nanos) = uuid.get_timestamp().unwrap().to_unix();
            assert_eq!(
                secs * 1000 + u64::from(nanos) / 1_000_000,
                1_780_000_000_123
            );
        }
    }
}
