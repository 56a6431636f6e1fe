//! The catalog as JSON, schema `telemetry-catalog/v1`.
//!
//! The document is built from serde structs whose fields are declared in the order they are
//! written, so the key order is fixed; arrays are sorted (events by name, sites by location),
//! and the output is pretty-printed with a trailing newline. Every key is always present
//! (`null` when unknown), so a diff shows only what changed.

use serde::Serialize;

use super::{Catalog, CatalogEvent, crate_relative_file, facts};
use crate::definition::{Classification, PropDef, Site, Trigger};
use crate::wire::AUTOMATIC_PROPERTIES;

/// The value of the document's `schema` key.
///
/// ```
/// let json: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
/// assert_eq!(json["schema"], telemetry_core::catalog::SCHEMA_NAME);
/// ```
pub const SCHEMA_NAME: &str = "telemetry-catalog/v1";

#[derive(Serialize)]
struct Document<'a> {
    schema: &'static str,
    app: App<'a>,
    events: Vec<Event>,
    lifecycle_events: Vec<Event>,
    automatic_properties: Vec<AutomaticProperty>,
}

#[derive(Serialize)]
struct App<'a> {
    name: &'a str,
    version: Option<&'a str>,
}

#[derive(Serialize)]
struct Event {
    name: &'static str,
    resource: &'static str,
    description: &'static str,
    trigger: Trigger,
    when: &'static str,
    hashed_distinct_id: bool,
    properties: Vec<Property>,
    sites: Vec<JsonSite>,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    kind: &'static str,
    rust_type: Option<&'static str>,
    variants: &'static [&'static str],
    classification: Classification,
    hashed: bool,
    nullable: bool,
    description: Option<&'static str>,
    source: Option<String>,
}

#[derive(Serialize)]
struct JsonSite {
    module_path: &'static str,
    function: Option<&'static str>,
    file: String,
    line: u32,
}

#[derive(Serialize)]
struct AutomaticProperty {
    name: &'static str,
    description: &'static str,
    source: Option<String>,
}

fn non_empty(s: &'static str) -> Option<&'static str> {
    (!s.trim().is_empty()).then_some(s)
}

fn property(p: &PropDef) -> Property {
    Property {
        name: p.name,
        kind: facts::kind_name(p),
        rust_type: non_empty(p.rust_type),
        variants: p.variants,
        classification: p.classification,
        hashed: p.is_hashed(),
        nullable: facts::may_be_null(p),
        description: non_empty(p.description),
        source: facts::property_source(p),
    }
}

fn site(s: &Site) -> JsonSite {
    JsonSite {
        module_path: s.module_path,
        function: non_empty(s.function),
        file: crate_relative_file(s.file),
        line: s.line,
    }
}

fn event(e: &CatalogEvent) -> Event {
    let mut sites: Vec<JsonSite> = e.sites.iter().map(site).collect();
    sites.sort_by(|a, b| {
        (&a.file, a.line, a.module_path, a.function).cmp(&(
            &b.file,
            b.line,
            b.module_path,
            b.function,
        ))
    });
    Event {
        name: e.name,
        resource: e.resource(),
        description: e.description.trim(),
        trigger: e.trigger,
        when: e.trigger.describe(),
        hashed_distinct_id: e.has_distinct_id,
        properties: e.props.iter().map(property).collect(),
        sites,
    }
}

pub(crate) fn render(catalog: &Catalog) -> String {
    let app = catalog.app();
    let document = Document {
        schema: SCHEMA_NAME,
        app: App {
            name: &app.name,
            version: app.version.as_deref(),
        },
        events: catalog.app_events().map(event).collect(),
        lifecycle_events: catalog.lifecycle_events().map(event).collect(),
        automatic_properties: AUTOMATIC_PROPERTIES
            .iter()
            .map(|&(name, description)| AutomaticProperty {
                name,
                description,
                source: facts::source(name),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&document)
        .expect("the catalog document has only string keys and plain values");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::def;
    use crate::property::ValueKind;

    #[test]
    fn keys_come_in_a_fixed_order_and_the_output_ends_with_a_newline() {
        let a = def(
            "task.created",
            "A task was created in a project.",
            Trigger::Success,
            vec![PropDef::new("task_id", "u64", ValueKind::Integer, &[])],
            "examples/timetracker/src/tasks.rs",
            7,
        );
        let json = Catalog::from_defs([a]).with_app("tt", "1.0.0").to_json();
        assert!(json.ends_with("}\n"));
        let order = [
            "\"schema\"",
            "\"app\"",
            "\"events\"",
            "\"name\": \"task.created\"",
            "\"resource\"",
            "\"description\"",
            "\"trigger\": \"success\"",
            "\"when\": \"when the action succeeds\"",
            "\"hashed_distinct_id\": false",
            "\"properties\"",
            "\"kind\": \"integer\"",
            "\"rust_type\": \"u64\"",
            "\"variants\": []",
            "\"classification\": \"identifier\"",
            "\"hashed\": false",
            "\"nullable\": false",
            "\"description\": null",
            "\"source\": null",
            "\"sites\"",
            "\"module_path\": \"app::handlers\"",
            "\"function\": \"handler\"",
            "\"file\": \"src/tasks.rs\"",
            "\"line\": 7",
            "\"lifecycle_events\"",
            "\"automatic_properties\"",
        ];
        let mut at = 0;
        for key in order {
            let found = json[at..]
                .find(key)
                .unwrap_or_else(|| panic!("{key} after byte {at} in\n{json}"));
            at += found + key.len();
        }
    }
}
