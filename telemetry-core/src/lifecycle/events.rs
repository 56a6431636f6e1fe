//! Static definitions of the lifecycle events and their properties.

use serde_json::Value;

use crate::definition::{Classification, EventDef, PropDef, Registration, Site, Trigger};
use crate::environment::EnvironmentInfo;
use crate::property::ValueKind;

const fn technical(name: &'static str, kind: ValueKind, description: &'static str) -> PropDef {
    PropDef {
        name,
        rust_type: "",
        kind,
        variants: &[],
        classification: Classification::Technical,
        description,
    }
}

/// Properties every lifecycle event declares. The install's context (`app_version`,
/// `platform`, `arch`, `environment`, `deployment_method`, `install_fingerprint`) is on every
/// event, so it is listed with the automatic properties ([`crate::wire::AUTOMATIC_PROPERTIES`]),
/// not here.
pub const COMMON_PROPS: [PropDef; 2] = [
    technical(
        "rust_version",
        ValueKind::Enum,
        "Version of the Rust compiler that built the application.",
    ),
    technical(
        "ci",
        ValueKind::Boolean,
        "Whether the process runs under a CI system.",
    ),
];

/// The values of [`COMMON_PROPS`] for this environment, in that order.
pub(crate) fn common_properties(info: &EnvironmentInfo) -> Vec<(&'static str, Value)> {
    COMMON_PROPS
        .iter()
        .map(|prop| {
            let value = match prop.name {
                "rust_version" => Value::from(info.rust_version.as_str()),
                "ci" => Value::Bool(info.ci),
                // A property added to COMMON_PROPS but not here; the unit test below catches it.
                _ => Value::Null,
            };
            (prop.name, value)
        })
        .collect()
}

const UPDATE_PROPS: [PropDef; 4] = [
    COMMON_PROPS[0],
    COMMON_PROPS[1],
    technical(
        "old_version",
        ValueKind::Enum,
        "The application version recorded before this start.",
    ),
    technical(
        "new_version",
        ValueKind::Enum,
        "The application version now running.",
    ),
];

const SITE: Site = Site {
    module_path: module_path!(),
    function: "",
    file: "telemetry-core/src/lifecycle/events.rs",
    line: 0,
};

/// `telemetry.install`: first start with telemetry enabled for this install state.
pub static INSTALL: EventDef = EventDef {
    name: "telemetry.install",
    description: "The first start of this installation with telemetry enabled. Sent once per install state.",
    trigger: Trigger::Lifecycle,
    props: &COMMON_PROPS,
    has_distinct_id: false,
    site: SITE,
};

/// `telemetry.update`: the application version differs from the last one recorded.
pub static UPDATE: EventDef = EventDef {
    name: "telemetry.update",
    description: "The application was started with a different version than the last one recorded for this installation.",
    trigger: Trigger::Lifecycle,
    props: &UPDATE_PROPS,
    has_distinct_id: false,
    site: SITE,
};

/// `telemetry.health`: at most once per 24 hours, at start and periodically.
pub static HEALTH: EventDef = EventDef {
    name: "telemetry.health",
    description: "A sign of life: sent at most once per 24 hours per installation, at start and periodically while running.",
    trigger: Trigger::Lifecycle,
    props: &COMMON_PROPS,
    has_distinct_id: false,
    site: SITE,
};

inventory::submit!(Registration(&INSTALL));
inventory::submit!(Registration(&UPDATE));
inventory::submit!(Registration(&HEALTH));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_properties_follow_common_props() {
        let info = EnvironmentInfo::detect_with(|_| None, |_| false, |_| None);
        let props = common_properties(&info);
        let names: Vec<_> = props.iter().map(|(name, _)| *name).collect();
        let expected: Vec<_> = COMMON_PROPS.iter().map(|p| p.name).collect();
        assert_eq!(names, expected);
        assert!(props.iter().all(|(_, v)| !v.is_null()), "{props:?}");
    }
}
