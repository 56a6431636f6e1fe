//! Rendering a [`Capture`] into the event exactly as it is sent.
//!
//! Every sink (PostHog, the JSONL file, the dry-run stderr sink, test recorders) receives the
//! same [`WireEvent`], so what a user sees locally is what PostHog would get.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::capture::Capture;
use crate::definition::EventDef;
use crate::fingerprint::Identity;
use crate::property::PropValue;

/// The `$lib` value of every event.
pub const LIB_NAME: &str = "telemetry-core";
/// The `$lib_version` value of every event.
pub const LIB_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Properties the toolkit adds to every event on its own, with what each means.
pub const AUTOMATIC_PROPERTIES: &[(&str, &str)] = &[
    (
        "app_version",
        "The version of the application that sent the event.",
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

/// One event as it goes over the wire (and into the JSONL log).
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

/// Renders the declared properties of `def` from their captured values.
pub(crate) fn render_props(
    def: &EventDef,
    values: &[PropValue],
    identity: &Identity,
    into: &mut Map<String, Value>,
) {
    for (prop, value) in def.props.iter().zip(values) {
        into.insert(prop.name.to_owned(), render_value(value, identity));
    }
}

fn render_value(value: &PropValue, identity: &Identity) -> Value {
    match value {
        PropValue::Null => Value::Null,
        PropValue::Bool(b) => Value::Bool(*b),
        PropValue::Int(i) => Value::from(*i),
        PropValue::UInt(u) => Value::from(*u),
        PropValue::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        PropValue::Str(text) => Value::String(text.as_str().to_owned()),
        PropValue::Hashed(input) => Value::String(identity.hash(&input.bytes())),
    }
}

/// Renders a capture for the wire.
pub(crate) fn render(capture: &Capture, identity: &Identity, app_version: &str) -> WireEvent {
    let mut properties = Map::new();
    render_props(capture.def, &capture.props, identity, &mut properties);
    for (key, value) in &capture.extra {
        properties.insert((*key).to_owned(), value.clone());
    }
    properties.insert("app_version".into(), Value::String(app_version.to_owned()));
    properties.insert("$lib".into(), Value::String(LIB_NAME.into()));
    properties.insert("$lib_version".into(), Value::String(LIB_VERSION.into()));
    properties.insert("$process_person_profile".into(), Value::Bool(false));
    properties.insert("$geoip_disable".into(), Value::Bool(true));
    let distinct_id = match &capture.distinct_id {
        Some(subject) => identity.hash(&subject.bytes()),
        None => identity.distinct_id().to_owned(),
    };
    let timestamp: chrono::DateTime<chrono::Utc> = capture.at.into();
    WireEvent {
        event: capture.def.name.to_owned(),
        distinct_id,
        uuid: event_uuid(capture.at),
        timestamp: timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        properties,
    }
}

/// A UUIDv7 (for PostHog's de-duplication) from the capture time and a per-thread generator
/// seeded once from the OS. `Uuid::now_v7()` asks the OS for fresh randomness on every call: a
/// system call that was about a twentieth of the worker's time per event (measured with
/// `cargo bench -p telemetry-tests --bench e2e` under `perf`). 74 random bits per id keep ids
/// unique; they need not be unpredictable.
fn event_uuid(at: std::time::SystemTime) -> String {
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
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
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
mod tests {
    #[test]
    fn event_uuids_are_unique_version_7_and_carry_the_capture_time() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_780_000_000_123);
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| super::event_uuid(at)).collect();
        assert_eq!(ids.len(), 10_000);
        for id in ids.iter().take(10) {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version_num(), 7);
            let (secs, nanos) = uuid.get_timestamp().unwrap().to_unix();
            assert_eq!(
                secs * 1000 + u64::from(nanos) / 1_000_000,
                1_780_000_000_123
            );
        }
    }
}
