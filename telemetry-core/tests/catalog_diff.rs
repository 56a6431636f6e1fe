//! The privacy changelog: a committed document (built here by editing a rendered one as JSON)
//! against this test binary's catalog, in each of the ways a change can alter data collection.

use serde_json::{Value, json};
use telemetry_core::catalog::{CatalogDiff, OldDocumentError, diff};
use telemetry_core::{EventDef, PropDef, Trigger, ValueKind};

mod common {
    pub mod catalog;
}
use common::catalog::{declaration, register, site};

static REPORT_EXPORTED: EventDef = declaration(
    "report.exported",
    "A report was exported to a file.",
    Trigger::Success,
    &[
        PropDef::new("format", "Format", ValueKind::Enum, &["csv", "pdf", "xlsx"]),
        PropDef::new("rows", "usize", ValueKind::Integer, &[]),
        PropDef::new("owner", "Hashed", ValueKind::Hashed, &[]),
        PropDef::new("took", "Duration", ValueKind::Duration, &[]),
        PropDef::new("page_limit", "Option<u32>", ValueKind::Integer, &[]),
    ],
    site!("export", 10),
);

static TIMER_STARTED: EventDef = EventDef {
    has_distinct_id: true,
    ..declaration(
        "timer.started",
        "A timer was started on a task.",
        Trigger::Call,
        &[PropDef::new("task_id", "u64", ValueKind::Integer, &[])],
        site!("start", 20),
    )
};

register!(REPORT_EXPORTED, TIMER_STARTED);

/// This binary's catalog as a document: the starting point of every "committed" document.
fn current() -> Value {
    serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap()
}

fn event<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc["events"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == name)
        .unwrap()
}

fn property<'a>(doc: &'a mut Value, event_name: &str, name: &str) -> &'a mut Value {
    event(doc, event_name)["properties"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == name)
        .unwrap()
}

/// The changelog from the committed document `old` to this binary's catalog.
fn changes(old: &Value) -> CatalogDiff {
    diff(&old.to_string(), &telemetry_core::catalog()).unwrap()
}

fn assert_lines(markdown: &str, lines: &[&str]) {
    for line in lines {
        assert!(
            markdown.lines().any(|l| l == *line),
            "missing line {line:?} in\n{markdown}"
        );
    }
}

#[test]
fn an_identical_document_gives_one_line() {
    let changes = changes(&current());
    assert!(changes.is_empty());
    assert_eq!(
        changes.to_markdown(),
        "### Telemetry: what this change does to data collection\n\n\
         No change to data collection: the events and properties this application can send are \
         the same as in the committed document.\n"
    );
}

#[test]
fn where_an_event_is_declared_and_the_app_version_are_not_data_collection() {
    let mut old = current();
    event(&mut old, "report.exported")["sites"][0]["line"] = json!(99);
    old["app"] = json!({"name": "other", "version": "0.9.0"});
    assert!(changes(&old).is_empty());
}

#[test]
fn an_added_event_is_described_with_its_properties() {
    let mut old = current();
    old["events"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["name"] != "report.exported");
    let changes = changes(&old);
    assert_eq!(changes.added_events(), ["report.exported"]);
    assert!(changes.removed_events().is_empty() && changes.changed_events().is_empty());
    let md = changes.to_markdown();
    assert_lines(
        &md,
        &[
            "This change alters what the application can send: 1 event added.",
            "**Events added**",
            "- `report.exported`: A report was exported to a file. Sent when the action \
             succeeds; linked to the anonymous fingerprint of this installation. Properties:",
            "  - `format`: one of `csv`, `pdf`, `xlsx`, category",
            "  - `rows`: whole number, count or amount",
            "  - `owner`: salted SHA-256 hash (the value itself is never sent), pseudonymous \
             identifier",
            "  - `took`: duration in seconds, duration",
            "  - `page_limit`: whole number, count or amount, may be null",
        ],
    );
    // Unchanged events are not mentioned.
    assert!(!md.contains("timer.started"), "{md}");
    assert!(!md.contains("telemetry.health"), "{md}");
}

#[test]
fn a_removed_event_is_listed_with_what_it_carried() {
    let mut old = current();
    let mut gone = event(&mut old, "timer.started").clone();
    gone["name"] = json!("timer.deleted");
    gone["properties"][0]["name"] = json!("entry_id");
    old["events"].as_array_mut().unwrap().push(gone);
    let changes = changes(&old);
    assert_eq!(changes.removed_events(), ["timer.deleted"]);
    assert!(changes.added_events().is_empty());
    assert_lines(
        &changes.to_markdown(),
        &[
            "This change alters what the application can send: 1 event removed.",
            "**Events removed**",
            "- `timer.deleted`: no longer sent (it carried `entry_id`).",
        ],
    );
}

#[test]
fn added_and_removed_properties() {
    let mut old = current();
    let props = event(&mut old, "report.exported")["properties"]
        .as_array_mut()
        .unwrap();
    props.retain(|p| p["name"] != "rows");
    props.push(
        json!({"name": "customer_email_domain", "kind": "enum", "rust_type": "&'static str",
        "variants": [], "classification": "category", "hashed": false, "nullable": false,
        "description": null, "source": null}),
    );
    let changes = changes(&old);
    assert_eq!(changes.changed_events(), ["report.exported"]);
    assert_lines(
        &changes.to_markdown(),
        &[
            "This change alters what the application can send: 1 event changed.",
            "**Events changed**",
            "- `report.exported`",
            "  - new property `rows`: whole number, count or amount",
            "  - property `customer_email_domain` removed: no longer sent",
        ],
    );
}

#[test]
fn a_changed_type_enum_values_classification_hashing_and_nullability() {
    let mut old = current();
    property(&mut old, "report.exported", "took")["kind"] = json!("integer");
    property(&mut old, "report.exported", "format")["variants"] = json!(["csv", "html", "pdf"]);
    property(&mut old, "report.exported", "rows")["classification"] = json!("identifier");
    let owner = property(&mut old, "report.exported", "owner");
    owner["kind"] = json!("integer");
    owner["hashed"] = json!(false);
    owner["classification"] = json!("identifier");
    property(&mut old, "report.exported", "page_limit")["nullable"] = json!(false);
    property(&mut old, "timer.started", "task_id")["nullable"] = json!(true);

    let changes = changes(&old);
    assert_eq!(
        changes.changed_events(),
        ["report.exported", "timer.started"]
    );
    let md = changes.to_markdown();
    assert_lines(
        &md,
        &[
            "This change alters what the application can send: 2 events changed.",
            "- `report.exported`",
            "  - property `format`: can now also be `xlsx`; can no longer be `html`",
            "  - property `rows`: kind of data was record identifier, now count or amount",
            "  - property `owner`: now sent only as a salted hash (it was sent as it is)",
            "  - property `owner`: kind of data was record identifier, now pseudonymous \
             identifier",
            "  - property `took`: type was whole number, now duration in seconds",
            "  - property `page_limit`: may now be null",
            "- `timer.started`",
            "  - property `task_id`: is no longer null",
        ],
    );
    // Hashing is said once, in its own words, not again as a type change.
    assert!(!md.contains("property `owner`: type was"), "{md}");
}

#[test]
fn a_property_that_stops_being_hashed_says_what_is_sent_instead() {
    let mut old = current();
    let rows = property(&mut old, "report.exported", "rows");
    rows["kind"] = json!("hashed");
    rows["hashed"] = json!(true);
    let md = changes(&old).to_markdown();
    assert_lines(
        &md,
        &[
            "  - property `rows`: now sent as it is, as whole number (it was sent only as a salted \
           hash)",
        ],
    );
}

#[test]
fn descriptions_trigger_and_linking_changes() {
    let mut old = current();
    let report = event(&mut old, "report.exported");
    report["description"] = json!("A report was exported.");
    report["when"] = json!("when the action starts");
    report["hashed_distinct_id"] = json!(true);
    let health = old["lifecycle_events"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["name"] == "telemetry.health")
        .unwrap();
    let rust_version = health["properties"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["name"] == "rust_version")
        .unwrap();
    rust_version["description"] = json!("The OS.");
    let changes = changes(&old);
    assert_eq!(
        changes.changed_events(),
        ["report.exported", "telemetry.health"]
    );
    let md = changes.to_markdown();
    assert_lines(
        &md,
        &[
            "  - description: was \"A report was exported.\", now \"A report was exported to a \
             file.\"",
            "  - sent: was when the action starts, now when the action succeeds",
            "  - now linked to the anonymous fingerprint of this installation (was linked to the \
             user or record it is about, by a salted hash of its id)",
            "- `telemetry.health`",
        ],
    );
    assert!(
        md.contains(
            "  - property `rust_version`: meaning was \"The OS.\", now \"Version of the Rust"
        ),
        "{md}"
    );
}

#[test]
fn properties_on_every_event() {
    let mut old = current();
    let automatic = old["automatic_properties"].as_array_mut().unwrap();
    let first = automatic.remove(0);
    let first_name = first["name"].as_str().unwrap().to_owned();
    automatic.push(json!({"name": "$ip", "description": "The client's IP address."}));
    let changes = changes(&old);
    assert!(changes.automatic_properties_changed());
    assert!(!changes.is_empty());
    let md = changes.to_markdown();
    assert_lines(
        &md,
        &[
            "This change alters what the application can send: the properties on every event \
             changed.",
            "**Properties on every event**",
            "- `$ip` removed: no longer sent",
        ],
    );
    assert!(
        md.contains(&format!("- `{first_name}` added: ")),
        "{first_name} in\n{md}"
    );
}

#[test]
fn documents_from_an_earlier_v1_release_compare_by_their_defaults() {
    // No `nullable` keys: nothing was marked, so the optional property is reported as newly
    // nullable. The toolkit's text was `enum` (and "text" in the Markdown): no change.
    let mut old = current();
    for list in ["events", "lifecycle_events"] {
        for e in old[list].as_array_mut().unwrap() {
            for p in e["properties"].as_array_mut().unwrap() {
                let p = p.as_object_mut().unwrap();
                p.remove("nullable");
                p.remove("source");
                if p["kind"] == "text" {
                    p.insert("kind".into(), json!("enum"));
                }
            }
        }
    }
    old["app"]["version"] = json!("unspecified");
    let changes = changes(&old);
    assert_eq!(changes.changed_events(), ["report.exported"]);
    assert_lines(
        &changes.to_markdown(),
        &["  - property `page_limit`: may now be null"],
    );
}

#[test]
fn an_old_document_that_is_not_a_v1_catalog_is_an_error() {
    let catalog = telemetry_core::catalog();
    let err = diff("# Telemetry in app\n", &catalog).unwrap_err();
    assert!(matches!(err, OldDocumentError::NotJson(_)), "{err:?}");
    assert!(err.to_string().contains("not JSON"), "{err}");

    let mut v2 = current();
    v2["schema"] = json!("telemetry-catalog/v2");
    let err = diff(&v2.to_string(), &catalog).unwrap_err();
    assert_eq!(
        err,
        OldDocumentError::WrongSchema(Some("telemetry-catalog/v2".into()))
    );
    assert!(
        err.to_string().contains("\"telemetry-catalog/v1\""),
        "{err}"
    );

    let err = diff("{\"events\": []}", &catalog).unwrap_err();
    assert_eq!(err, OldDocumentError::WrongSchema(None));

    let mut broken = current();
    broken.as_object_mut().unwrap().remove("events");
    let err = diff(&broken.to_string(), &catalog).unwrap_err();
    assert!(matches!(err, OldDocumentError::Malformed(_)), "{err:?}");
    assert!(err.to_string().contains("events"), "{err}");
}
