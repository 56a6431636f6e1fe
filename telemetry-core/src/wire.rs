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
    ("app_version", "The version of the application that sent the event."),
    ("$lib", "The library that sent the event: always \"telemetry-core\"."),
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
        PropValue::Str(s) => Value::String((*s).to_owned()),
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
        uuid: uuid::Uuid::now_v7().to_string(),
        timestamp: timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        properties,
    }
}
