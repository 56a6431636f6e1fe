//! The JSON document (`telemetry-catalog/v1`): shape, order, relative sites, and validation
//! against the committed JSON Schema.

use serde_json::{Value, json};
use telemetry_core::__private::internals::wire::AUTOMATIC_PROPERTIES;
use telemetry_core::catalog::{Format, SCHEMA_NAME};
use telemetry_core::{Classification, EventDef, PropDef, Site, Trigger, ValueKind};

// Hand-written definitions, as `#[track_event]` would register them. Fixed line numbers keep the
// committed golden document stable when this file is edited.
const fn site(function: &'static str, line: u32) -> Site {
    Site {
        module_path: module_path!(),
        function,
        file: file!(),
        line,
    }
}

static PROJECT_CREATED: EventDef = EventDef {
    name: "project.created",
    description: "A project was created.",
    trigger: Trigger::Success,
    props: &[
        PropDef::new("project_id", "u64", ValueKind::Integer, &[]),
        PropDef::new("billable", "bool", ValueKind::Boolean, &[]),
        PropDef::new("budget_hours", "Option<u32>", ValueKind::Integer, &[]),
    ],
    has_distinct_id: false,
    site: site("create_project", 10),
};

const TASK_PROPS: &[PropDef] = &[PropDef::new("project_id", "u64", ValueKind::Integer, &[])];

static TASK_CREATED_API: EventDef = EventDef {
    name: "task.created",
    description: "A task was added to a project.",
    trigger: Trigger::Success,
    props: TASK_PROPS,
    has_distinct_id: false,
    site: site("create_task", 40),
};

static TASK_CREATED_IMPORT: EventDef = EventDef {
    name: "task.created",
    description: "A task was added to a project.",
    trigger: Trigger::Success,
    props: TASK_PROPS,
    has_distinct_id: false,
    site: site("import_tasks", 20),
};

static TIMER_STOPPED: EventDef = EventDef {
    name: "timer.stopped",
    description: "A running timer was stopped and its time entry saved.",
    trigger: Trigger::Return,
    props: &[
        PropDef::new("duration", "Duration", ValueKind::Duration, &[]),
        PropDef::new(
            "source",
            "StopSource",
            ValueKind::Enum,
            &["button", "idle", "shortcut"],
        ),
        PropDef::new("entry", "Hashed", ValueKind::Hashed, &[]),
        PropDef::new("rounded", "", ValueKind::Unspecified, &[]),
    ],
    has_distinct_id: true,
    site: site("stop_timer", 60),
};

static REPORT_EXPORTED: EventDef = EventDef {
    name: "report.exported",
    description: "A report was exported to a file.",
    trigger: Trigger::Inline,
    props: &[PropDef {
        name: "rows",
        rust_type: "usize",
        kind: ValueKind::Integer,
        variants: &[],
        classification: Classification::Measurement,
        description: "",
    }],
    has_distinct_id: false,
    site: Site {
        module_path: "app::reports",
        function: "",
        file: "examples/app/src/reports.rs",
        line: 7,
    },
};

telemetry_core::__private::submit!(telemetry_core::__private::Registration(&PROJECT_CREATED));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(&TASK_CREATED_API));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(
    &TASK_CREATED_IMPORT
));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(&TIMER_STOPPED));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(&REPORT_EXPORTED));

fn document() -> Value {
    let text = telemetry_core::catalog()
        .with_app("catalog-json", "1.2.3")
        .to_json();
    serde_json::from_str(&text).expect("the document is JSON")
}

fn names(events: &Value) -> Vec<&str> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

fn schema_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/telemetry-catalog-v1.json")
}

fn validate(instance: &Value) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    compiler
        .add_resource("file:///telemetry-catalog-v1.json", schema)
        .unwrap();
    let index = compiler
        .compile("file:///telemetry-catalog-v1.json", &mut schemas)
        .map_err(|e| format!("the schema does not compile: {e:#}"))?;
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn the_document_validates_against_the_committed_schema() {
    validate(&document()).unwrap();
    // And so does the document of an empty catalog.
    let empty = telemetry_core::Catalog::from_defs([])
        .with_app("x", "0")
        .to_json();
    validate(&serde_json::from_str(&empty).unwrap()).unwrap();
    // And the committed kind: named, no version.
    let unversioned = telemetry_core::catalog()
        .with_app_info(telemetry_core::catalog::AppInfo::named("x"))
        .to_json();
    let unversioned: Value = serde_json::from_str(&unversioned).unwrap();
    assert_eq!(unversioned["app"]["version"], Value::Null);
    validate(&unversioned).unwrap();
}

#[test]
fn the_schema_rejects_broken_documents() {
    let good = document();
    let mut broken = good.clone();
    broken["events"][0]["trigger"] = json!("sometimes");
    assert!(validate(&broken).is_err());
    let mut broken = good.clone();
    broken["events"][0]["properties"][0]
        .as_object_mut()
        .unwrap()
        .remove("classification");
    assert!(validate(&broken).is_err());
    let mut broken = good.clone();
    broken["schema"] = json!("telemetry-catalog/v2");
    assert!(validate(&broken).is_err());
    let mut broken = good.clone();
    broken["events"][0]["extra"] = json!(true);
    assert!(validate(&broken).is_err());
    let mut broken = good.clone();
    broken["events"][0]["properties"][0]["nullable"] = json!("sometimes");
    assert!(validate(&broken).is_err());
    let mut broken = good;
    broken["events"][0]["properties"][0]["kind"] = json!("string");
    assert!(validate(&broken).is_err());
}

#[test]
fn the_top_level_has_schema_app_events_lifecycle_and_automatic_properties() {
    let doc = document();
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        [
            "app",
            "automatic_properties",
            "events",
            "lifecycle_events",
            "schema"
        ],
        "serde_json sorts map keys when reading; the written order is tested in the unit tests"
    );
    assert_eq!(doc["schema"], SCHEMA_NAME);
    assert_eq!(
        doc["app"],
        json!({"name": "catalog-json", "version": "1.2.3"})
    );
    assert_eq!(
        names(&doc["events"]),
        [
            "project.created",
            "report.exported",
            "task.created",
            "timer.stopped"
        ]
    );
    assert_eq!(
        names(&doc["lifecycle_events"]),
        ["telemetry.health", "telemetry.install", "telemetry.update"]
    );
    let automatic: Vec<(&str, &str)> = doc["automatic_properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(automatic, AUTOMATIC_PROPERTIES);
}

#[test]
fn declarations_of_one_event_merge_into_one_entry_with_sorted_relative_sites() {
    let doc = document();
    let task = &doc["events"][2];
    assert_eq!(task["name"], "task.created");
    assert_eq!(task["resource"], "task");
    assert_eq!(
        task["sites"],
        json!([
            {"module_path": "catalog_json", "function": "import_tasks", "file": "tests/catalog_json.rs", "line": 20},
            {"module_path": "catalog_json", "function": "create_task", "file": "tests/catalog_json.rs", "line": 40},
        ])
    );
    let report = &doc["events"][1];
    assert_eq!(
        report["sites"],
        json!([{"module_path": "app::reports", "function": null, "file": "src/reports.rs", "line": 7}])
    );
}

#[test]
fn events_carry_trigger_properties_and_hashing() {
    let doc = document();
    let project = &doc["events"][0];
    assert_eq!(project["description"], "A project was created.");
    assert_eq!(project["trigger"], "success");
    assert_eq!(project["when"], "when the action succeeds");
    assert_eq!(project["hashed_distinct_id"], false);
    assert_eq!(
        project["properties"],
        json!([
            {"name": "project_id", "kind": "integer", "rust_type": "u64", "variants": [],
             "classification": "identifier", "hashed": false, "nullable": false,
             "description": null, "source": null},
            {"name": "billable", "kind": "boolean", "rust_type": "bool", "variants": [],
             "classification": "flag", "hashed": false, "nullable": false,
             "description": null, "source": null},
            {"name": "budget_hours", "kind": "integer", "rust_type": "Option<u32>", "variants": [],
             "classification": "measurement", "hashed": false, "nullable": true,
             "description": null, "source": null},
        ])
    );
    let timer = &doc["events"][3];
    assert_eq!(timer["trigger"], "return");
    assert_eq!(timer["hashed_distinct_id"], true);
    let props = timer["properties"].as_array().unwrap();
    assert_eq!(props[0]["kind"], "duration");
    assert_eq!(props[0]["classification"], "timing");
    assert_eq!(props[1]["variants"], json!(["button", "idle", "shortcut"]));
    assert_eq!(props[1]["classification"], "category");
    assert_eq!(props[2]["hashed"], true);
    assert_eq!(props[2]["classification"], "pseudonymous");
    assert_eq!(props[3]["kind"], "unspecified");
    assert_eq!(props[3]["rust_type"], Value::Null);
    assert_eq!(doc["events"][1]["trigger"], "inline");

    let update = &doc["lifecycle_events"][2];
    assert_eq!(update["trigger"], "lifecycle");
    let old_version = update["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "old_version")
        .unwrap();
    assert_eq!(old_version["classification"], "technical");
    assert!(old_version["description"].as_str().unwrap().len() > 10);
}

#[test]
fn free_text_lifecycle_properties_are_text_as_in_the_markdown() {
    let doc = document();
    let markdown = telemetry_core::catalog().to_markdown();
    for event in doc["lifecycle_events"].as_array().unwrap() {
        for p in event["properties"].as_array().unwrap() {
            let name = p["name"].as_str().unwrap();
            let kind = p["kind"].as_str().unwrap();
            // What the Markdown's table row says the type is.
            let row = markdown
                .lines()
                .find(|l| l.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("no row for {name}"));
            let words = row.split(" | ").nth(1).unwrap();
            let expected = match name {
                "ci" => ("boolean", "yes/no"),
                _ => ("text", "text"),
            };
            assert_eq!((kind, words), expected, "{name}: {row}");
            assert_eq!(p["variants"], json!([]), "{name}");
            assert!(p["source"].as_str().is_some_and(|s| s.len() > 10), "{name}");
        }
    }
}

#[test]
fn toolkit_properties_say_where_their_values_come_from() {
    let doc = document();
    let health = &doc["lifecycle_events"][0];
    let find = |list: &serde_json::Value, name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))["source"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // The install's context is on every event: its sources are with the automatic properties.
    let automatic = &doc["automatic_properties"];
    let environment = find(automatic, "environment");
    for var in ["`APP_ENV`", "`RUST_ENV`", "`ENVIRONMENT`", "\"production\""] {
        assert!(environment.contains(var), "{environment}");
    }
    assert!(find(automatic, "deployment_method").contains("/.dockerenv"));
    let ci = find(&health["properties"], "ci");
    for var in ["`CI`", "`GITHUB_ACTIONS`", "`GITLAB_CI`", "`JENKINS_URL`"] {
        assert!(ci.contains(var), "{ci}");
    }
    for automatic in doc["automatic_properties"].as_array().unwrap() {
        assert!(
            automatic["source"].as_str().is_some_and(|s| !s.is_empty()),
            "{automatic}"
        );
    }
    assert!(
        doc["automatic_properties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "app_version"
                && p["source"].as_str().unwrap().contains("`APP_VERSION`"))
    );
}

#[test]
fn the_schema_is_versioned_and_earlier_v1_documents_stay_valid() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path()).unwrap()).unwrap();
    // The version is in the file name, the $id, the title and the one value `schema` may have.
    assert!(schema_path().ends_with("telemetry-catalog-v1.json"));
    assert!(
        schema["$id"]
            .as_str()
            .unwrap()
            .ends_with("/telemetry-catalog-v1.json")
    );
    assert_eq!(schema["title"], SCHEMA_NAME);
    assert_eq!(schema["properties"]["schema"]["const"], SCHEMA_NAME);
    assert!(schema["$comment"].as_str().unwrap().contains("additive"));

    // A document as the first v1 release wrote it: no nullable or source keys, a version string.
    let mut earlier = document();
    earlier["app"]["version"] = json!("unspecified");
    for list in ["events", "lifecycle_events"] {
        for event in earlier[list].as_array_mut().unwrap() {
            for p in event["properties"].as_array_mut().unwrap() {
                let p = p.as_object_mut().unwrap();
                p.remove("nullable");
                p.remove("source");
                if p["kind"] == "text" {
                    p.insert("kind".into(), json!("enum"));
                }
            }
        }
    }
    for p in earlier["automatic_properties"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("source");
    }
    validate(&earlier).unwrap();
}

#[test]
fn the_output_is_deterministic_pretty_and_ends_with_a_newline() {
    let a = telemetry_core::catalog().with_app("a", "1").to_json();
    let b = telemetry_core::catalog().with_app("a", "1").to_json();
    assert_eq!(a, b);
    assert!(a.starts_with("{\n  \"schema\": \"telemetry-catalog/v1\",\n  \"app\": {\n"));
    assert!(a.ends_with("}\n") && !a.ends_with("\n\n"));
}

#[test]
fn the_committed_golden_document_is_current() {
    telemetry_core::catalog()
        .with_app("catalog-json", "1.2.3")
        .assert_document_current("tests/catalog_golden/catalog.json", Format::Json);
}
