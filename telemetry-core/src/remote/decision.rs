//! What a PostHog feature flag answer means for telemetry: pure functions over the flags and
//! payloads posthog-rs returns, so every rule is tested without a server.
//!
//! - the flag is disabled for this install: [`Decision::Off`], nothing is sent;
//! - enabled (`true` or any variant): [`Decision::On`], minus the events listed in a JSON
//!   payload `{"drop": ["event.name", ...]}`;
//! - absent from the answer (unknown flag, quota limited, errors computing it), or a payload
//!   that is not `{"drop": [names]}`: no decision, the last one stays.

use std::collections::HashMap;

use posthog_rs::FlagValue;
use serde_json::Value;

/// What the flag decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Decision {
    /// Telemetry stays on (as far as local consent allows), except for these events.
    On {
        /// Event names that are dropped, not sent.
        drop: Vec<String>,
    },
    /// Telemetry is off for this install: nothing is sent.
    #[default]
    Off,
}

impl Decision {
    /// On with nothing dropped: the decision when nothing else is known.
    pub fn on() -> Decision {
        Decision::On { drop: Vec::new() }
    }

    /// Whether the flag switched telemetry off.
    pub fn is_off(&self) -> bool {
        matches!(self, Decision::Off)
    }

    /// The events dropped (empty when off: then everything is).
    pub fn dropped(&self) -> &[String] {
        match self {
            Decision::On { drop } => drop,
            Decision::Off => &[],
        }
    }

    /// Whether an event of this name may be sent.
    pub fn allows(&self, event: &str) -> bool {
        match self {
            Decision::On { drop } => !drop.iter().any(|d| d == event),
            Decision::Off => false,
        }
    }
}

/// Reads the decision for `key` from one `/flags` answer. `Ok(None)`: the flag is not in the
/// answer. `Err`: the flag is on but its payload is not `{"drop": [names]}`; the caller keeps
/// the last decision (as for an unknown flag) and reports the error.
pub fn decide(
    key: &str,
    flags: &HashMap<String, FlagValue>,
    payloads: &HashMap<String, Value>,
) -> Result<Option<Decision>, String> {
    match flags.get(key) {
        None => Ok(None),
        Some(FlagValue::Boolean(false)) => Ok(Some(Decision::Off)),
        Some(FlagValue::Boolean(true) | FlagValue::String(_)) => match payloads.get(key) {
            None | Some(Value::Null) => Ok(Some(Decision::on())),
            Some(payload) => drop_list(payload).map(|drop| Some(Decision::On { drop })),
        },
    }
}

/// The `drop` list of a payload. PostHog's `/flags?v=2` sends the payload as a JSON string;
/// older answers (and posthog-rs's legacy shape) may carry the object itself.
fn drop_list(payload: &Value) -> Result<Vec<String>, String> {
    let parsed;
    let payload = match payload {
        Value::String(text) => {
            parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("the flag's payload is not JSON ({e})"))?;
            &parsed
        }
        other => other,
    };
    let Some(object) = payload.as_object() else {
        return Err("the flag's payload is not a JSON object like {\"drop\": [...]}".into());
    };
    let Some(list) = object.get("drop") else {
        return Ok(Vec::new());
    };
    let names = list
        .as_array()
        .ok_or("the payload's \"drop\" is not a list of event names")?;
    let mut drop = Vec::with_capacity(names.len());
    for name in names {
        let name = name
            .as_str()
            .ok_or("the payload's \"drop\" holds something other than an event name")?;
        if !drop.iter().any(|d| d == name) {
            drop.push(name.to_owned());
        }
    }
    Ok(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(
        value: Option<FlagValue>,
        payload: Option<Value>,
    ) -> Result<Option<Decision>, String> {
        let mut flags = HashMap::new();
        let mut payloads = HashMap::new();
        if let Some(v) = value {
            flags.insert("kill".to_owned(), v);
        }
        if let Some(p) = payload {
            payloads.insert("kill".to_owned(), p);
        }
        flags.insert("other".to_owned(), FlagValue::Boolean(false));
        decide("kill", &flags, &payloads)
    }

    #[test]
    fn disabled_enabled_and_unknown() {
        assert_eq!(
            answer(Some(FlagValue::Boolean(false)), None),
            Ok(Some(Decision::Off))
        );
        assert_eq!(
            answer(Some(FlagValue::Boolean(true)), None),
            Ok(Some(Decision::on()))
        );
        assert_eq!(
            answer(Some(FlagValue::String("control".into())), None),
            Ok(Some(Decision::on()))
        );
        assert_eq!(answer(None, None), Ok(None));
    }

    #[test]
    fn the_drop_list_comes_as_a_json_string_or_an_object() {
        let expected = Ok(Some(Decision::On {
            drop: vec!["a.b".into(), "c.d".into()],
        }));
        let text = json!("{\"drop\": [\"a.b\", \"c.d\", \"a.b\"]}");
        assert_eq!(answer(Some(FlagValue::Boolean(true)), Some(text)), expected);
        let object = json!({"drop": ["a.b", "c.d"]});
        assert_eq!(
            answer(Some(FlagValue::Boolean(true)), Some(object)),
            expected
        );
        // A payload without "drop" drops nothing.
        let other = json!("{\"note\": 1}");
        assert_eq!(
            answer(Some(FlagValue::Boolean(true)), Some(other)),
            Ok(Some(Decision::on()))
        );
    }

    #[test]
    fn a_malformed_payload_is_an_error() {
        for bad in [
            json!("not json"),
            json!("[1, 2]"),
            json!({"drop": "a.b"}),
            json!({"drop": [1]}),
        ] {
            assert!(
                answer(Some(FlagValue::Boolean(true)), Some(bad.clone())).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn off_allows_nothing_and_on_all_but_the_list() {
        assert!(!Decision::Off.allows("a.b"));
        let on = Decision::On {
            drop: vec!["a.b".into()],
        };
        assert!(!on.allows("a.b"));
        assert!(on.allows("telemetry.health"));
    }
}
