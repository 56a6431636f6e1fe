//! What the catalog wants PostHog's data management to say: one event definition per catalog
//! event, one property definition per property name.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::definition::PropDef;
use crate::property::ValueKind;
use crate::wire::AUTOMATIC_PROPERTIES;

/// The tag every pushed event definition carries, so a team can filter PostHog's event list down
/// to what the catalog declares.
pub const TAG: &str = "telemetry-catalog";

/// An event definition as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredEvent {
    pub name: String,
    pub description: String,
}

/// A property definition as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesiredProperty {
    pub name: String,
    pub description: String,
    /// PostHog's name for the value type, when the catalog knows it.
    pub property_type: Option<&'static str>,
}

/// PostHog's property type for a value kind (PostHog's `PropertyType`: `DateTime`, `String`,
/// `Numeric`, `Boolean`, `Duration`). `None` when the kind says nothing PostHog could use.
pub const fn posthog_property_type(kind: ValueKind) -> Option<&'static str> {
    match kind {
        ValueKind::Boolean => Some("Boolean"),
        ValueKind::Integer | ValueKind::Float => Some("Numeric"),
        // Sent as seconds, which is what PostHog's `Duration` type formats.
        ValueKind::Duration => Some("Duration"),
        ValueKind::Enum | ValueKind::Hashed => Some("String"),
        ValueKind::Unspecified => None,
    }
}

/// The event and property definitions of `catalog`, each sorted by name.
///
/// Properties whose name starts with `$` are PostHog's own (`$lib`, `$geoip_disable`, ...):
/// PostHog documents those itself, so they are left out.
pub(crate) fn desired(catalog: &Catalog) -> (Vec<DesiredEvent>, Vec<DesiredProperty>) {
    let events = catalog
        .entries()
        .iter()
        .map(|e| DesiredEvent {
            name: e.name.to_owned(),
            description: e.description.to_owned(),
        })
        .collect();

    let mut props: BTreeMap<&str, (PropDef, Vec<&str>)> = BTreeMap::new();
    for entry in catalog.entries() {
        for prop in entry.props {
            props
                .entry(prop.name)
                .or_insert_with(|| (*prop, Vec::new()))
                .1
                .push(entry.name);
        }
    }
    let mut properties: Vec<DesiredProperty> = props
        .into_iter()
        .filter(|(name, _)| !name.starts_with('$'))
        .map(|(name, (prop, events))| DesiredProperty {
            name: name.to_owned(),
            description: property_description(&prop, &events),
            property_type: posthog_property_type(prop.kind),
        })
        .collect();
    for (name, description) in AUTOMATIC_PROPERTIES {
        if name.starts_with('$') || properties.iter().any(|p| p.name == *name) {
            continue;
        }
        properties.push(DesiredProperty {
            name: (*name).to_owned(),
            description: format!("{description} Sent with every event."),
            // The table gives no value kind; PostHog's own inference is left alone.
            property_type: None,
        });
    }
    properties.sort_by(|a, b| a.name.cmp(&b.name));
    (events, properties)
}

/// The toolkit's own description when it has one, else one made from what the catalog knows.
fn property_description(prop: &PropDef, events: &[&str]) -> String {
    let sent_with = format!("Sent with {}.", events.join(", "));
    if !prop.description.is_empty() {
        return format!("{} {sent_with}", prop.description);
    }
    let what = match prop.kind {
        ValueKind::Hashed => "A salted SHA-256 hash (64 hex characters), never the raw value",
        ValueKind::Boolean => "A yes/no flag",
        ValueKind::Integer => "A whole number",
        ValueKind::Float => "A number",
        ValueKind::Duration => "A duration in seconds",
        ValueKind::Enum => "One of a fixed set of values",
        ValueKind::Unspecified => "A value",
    };
    let mut text = format!("{what} ({}).", prop.classification.as_str());
    if !prop.variants.is_empty() {
        text.push_str(&format!(" Values: {}.", prop.variants.join(", ")));
    }
    format!("{text} {sent_with}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::def;
    use crate::definition::Trigger;

    #[test]
    fn value_kinds_map_to_posthog_property_types() {
        assert_eq!(posthog_property_type(ValueKind::Integer), Some("Numeric"));
        assert_eq!(posthog_property_type(ValueKind::Duration), Some("Duration"));
        assert_eq!(posthog_property_type(ValueKind::Hashed), Some("String"));
        assert_eq!(posthog_property_type(ValueKind::Unspecified), None);
    }

    #[test]
    fn properties_merge_across_events_and_skip_posthog_names() {
        let flag = PropDef::new("billable", "bool", ValueKind::Boolean, &[]);
        let dollar = PropDef::new("$set", "u64", ValueKind::Integer, &[]);
        let a = def(
            "project.created",
            "A project was created by someone.",
            Trigger::Success,
            vec![flag, dollar],
            "src/a.rs",
            1,
        );
        let b = def(
            "project.archived",
            "A project was archived by someone.",
            Trigger::Success,
            vec![flag],
            "src/a.rs",
            9,
        );
        let (events, props) = desired(&Catalog::from_defs([a, b]));
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].name, "project.archived");
        let billable = props.iter().find(|p| p.name == "billable").unwrap();
        assert_eq!(billable.property_type, Some("Boolean"));
        assert_eq!(
            billable.description,
            "A yes/no flag (flag). Sent with project.archived, project.created."
        );
        assert!(props.iter().all(|p| !p.name.starts_with('$')));
        let app_version = props.iter().find(|p| p.name == "app_version").unwrap();
        assert_eq!(app_version.property_type, None);
        let names: Vec<_> = props.iter().map(|p| p.name.as_str()).collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }
}
