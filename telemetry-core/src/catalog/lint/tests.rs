//! Unit tests of the lints, one per lint.

use super::description::is_placeholder;
use super::{Lint, Severity};
use crate::catalog::Catalog;
use crate::catalog::test_support::def;
use crate::definition::{Classification, EventDef, PropDef, Trigger};
use crate::property::ValueKind;

const GOOD: &str = "A task was created in a project.";

/// A declaration sent when its handler succeeds, the trigger most tests do not care about.
fn success(
    name: &'static str,
    description: &'static str,
    props: Vec<PropDef>,
    file: &'static str,
    line: u32,
) -> &'static EventDef {
    def(name, description, Trigger::Success, props, file, line)
}

fn lints(catalog: &Catalog) -> Vec<(Lint, Vec<&'static str>)> {
    catalog
        .lint()
        .into_iter()
        .map(|f| (f.lint, f.events))
        .collect()
}

fn id(name: &'static str) -> PropDef {
    PropDef::new(name, "u64", ValueKind::Integer, &[])
}

#[test]
fn identical_declarations_are_clean() {
    let a = success("task.created", GOOD, vec![id("task_id")], "src/a.rs", 1);
    let b = success("task.created", GOOD, vec![id("task_id")], "src/b.rs", 2);
    assert!(Catalog::from_defs([a, b]).lint().is_empty());
}

#[test]
fn conflicting_properties_are_an_error_with_both_sites() {
    let a = success("task.created", GOOD, vec![id("task_id")], "src/a.rs", 1);
    let b = success(
        "task.created",
        GOOD,
        vec![
            PropDef::new("task_id", "f64", ValueKind::Float, &[]),
            id("extra_id"),
        ],
        "src/b.rs",
        2,
    );
    let findings = Catalog::from_defs([a, b]).lint();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.lint, Lint::ConflictingDeclarations);
    assert!(f.is_error());
    assert_eq!(f.sites.len(), 2);
    let text = f.to_string();
    assert!(
        text.starts_with("error[conflicting-declarations]: `task.created`"),
        "{text}"
    );
    assert!(text.contains("property `task_id`: integer (identifier) at src/a.rs:1; float (identifier) at src/b.rs:2"), "{text}");
    assert!(
        text.contains(
            "property `extra_id`: absent at src/a.rs:1; integer (identifier) at src/b.rs:2"
        ),
        "{text}"
    );
    assert!(
        text.contains("--> src/a.rs:1 (app::handlers::handler)"),
        "{text}"
    );
}

#[test]
fn conflicting_classification_trigger_and_distinct_id_are_errors() {
    let mut flagged = id("task_id");
    flagged.classification = Classification::Measurement;
    let a = success("task.created", GOOD, vec![id("task_id")], "src/a.rs", 1);
    let b = success("task.created", GOOD, vec![flagged], "src/b.rs", 2);
    let text = Catalog::from_defs([a, b]).lint()[0].to_string();
    assert!(
        text.contains("integer (measurement) at src/b.rs:2"),
        "{text}"
    );

    let c = def(
        "task.created",
        GOOD,
        Trigger::Return,
        vec![id("task_id")],
        "src/c.rs",
        3,
    );
    let findings = Catalog::from_defs([a, c]).lint();
    assert_eq!(findings[0].lint, Lint::ConflictingDeclarations);
    assert!(
        findings[0]
            .message
            .contains("trigger: `success` at src/a.rs:1; `return` at src/c.rs:3")
    );

    let mut with_subject = *a;
    with_subject.has_distinct_id = true;
    with_subject.site.line = 9;
    let d: &'static EventDef = Box::leak(Box::new(with_subject));
    let findings = Catalog::from_defs([a, d]).lint();
    assert_eq!(findings[0].lint, Lint::ConflictingDeclarations);
    assert!(findings[0].message.contains("distinct id"));
}

#[test]
fn different_enum_values_conflict() {
    let a = success(
        "report.exported",
        GOOD,
        vec![PropDef::new(
            "format",
            "Format",
            ValueKind::Enum,
            &["csv", "pdf"],
        )],
        "src/a.rs",
        1,
    );
    let b = success(
        "report.exported",
        GOOD,
        vec![PropDef::new("format", "Format", ValueKind::Enum, &["csv"])],
        "src/b.rs",
        1,
    );
    assert_eq!(
        lints(&Catalog::from_defs([a, b])),
        [(Lint::ConflictingDeclarations, vec!["report.exported"])]
    );
}

#[test]
fn divergent_descriptions_are_a_warning() {
    let a = success("task.created", GOOD, vec![], "src/a.rs", 1);
    let b = success(
        "task.created",
        "A task was added to a project.",
        vec![],
        "src/b.rs",
        1,
    );
    let findings = Catalog::from_defs([a, b]).lint();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].lint, Lint::DivergentDescriptions);
    assert_eq!(findings[0].severity(), Severity::Warning);
}

#[test]
fn names_differing_only_by_punctuation_are_an_error() {
    let a = success("task.status_changed", GOOD, vec![], "src/a.rs", 1);
    let b = success("task.statuschanged", GOOD, vec![], "src/b.rs", 2);
    let c = success("task_status.changed", GOOD, vec![], "src/c.rs", 3);
    let d = success("task.status", GOOD, vec![], "src/d.rs", 4);
    let findings = Catalog::from_defs([a, b, c, d]).lint();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].lint, Lint::ConfusableNames);
    assert_eq!(
        findings[0].events,
        [
            "task.status_changed",
            "task.statuschanged",
            "task_status.changed"
        ]
    );
    assert_eq!(findings[0].sites.len(), 3);
}

#[test]
fn empty_descriptions_are_an_error() {
    let a = success("task.created", "  ", vec![], "src/a.rs", 1);
    assert_eq!(
        lints(&Catalog::from_defs([a])),
        [(Lint::MissingDescription, vec!["task.created"])]
    );
}

#[test]
fn placeholder_descriptions_are_an_error() {
    for placeholder in [
        "TODO",
        "todo",
        "TODO: describe this",
        "tbd",
        "FIXME",
        "...",
        "…",
        "Description",
        "description.",
        "task.created",
        "???",
        "XXX later",
    ] {
        let a = success("task.created", placeholder, vec![], "src/a.rs", 1);
        assert_eq!(
            lints(&Catalog::from_defs([a])),
            [(Lint::PlaceholderDescription, vec!["task.created"])],
            "{placeholder:?}"
        );
    }
    for fine in [
        GOOD,
        "Todo list items were reordered by the user.",
        "A description was edited in a task.",
    ] {
        assert!(!is_placeholder(fine, "task.created"), "{fine:?}");
    }
}

#[test]
fn short_descriptions_are_a_warning() {
    let a = success("task.created", "Task created.", vec![], "src/a.rs", 1);
    let findings = Catalog::from_defs([a]).lint();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].lint, Lint::ShortDescription);
    assert!(!findings[0].is_error());
}

#[test]
fn unspecified_kinds_are_a_warning_suggesting_a_type() {
    let a = success(
        "task.created",
        GOOD,
        vec![PropDef::new("count", "", ValueKind::Unspecified, &[])],
        "src/a.rs",
        1,
    );
    let findings = Catalog::from_defs([a]).lint();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].lint, Lint::UnspecifiedKind);
    assert_eq!(findings[0].severity(), Severity::Warning);
    assert!(findings[0].message.contains("`props(count: Type = expr)`"));
}

#[test]
fn findings_of_identical_declarations_are_reported_once_with_all_sites() {
    let props = vec![PropDef::new("count", "", ValueKind::Unspecified, &[])];
    let a = success("task.created", GOOD, props.clone(), "src/a.rs", 1);
    let b = success("task.created", GOOD, props, "src/b.rs", 2);
    let findings = Catalog::from_defs([a, b]).lint();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].sites.len(), 2);
}

#[test]
fn duplicate_properties_are_an_error() {
    let a = success(
        "task.created",
        GOOD,
        vec![id("task_id"), id("task_id")],
        "src/a.rs",
        1,
    );
    assert_eq!(
        lints(&Catalog::from_defs([a])),
        [(Lint::DuplicateProperty, vec!["task.created"])]
    );
}

#[test]
fn reserved_properties_are_an_error() {
    for name in ["app_version", "$lib", "$ip"] {
        let a = success("task.created", GOOD, vec![id(name)], "src/a.rs", 1);
        assert_eq!(
            lints(&Catalog::from_defs([a])),
            [(Lint::ReservedProperty, vec!["task.created"])],
            "{name}"
        );
    }
}

#[test]
fn invalid_and_reserved_names_are_an_error() {
    for name in [
        "Task.Created",
        "task",
        "task..created",
        "task.created!",
        "telemetry.custom",
    ] {
        let a = success(name, GOOD, vec![], "src/a.rs", 1);
        assert_eq!(
            lints(&Catalog::from_defs([a])),
            [(Lint::InvalidName, vec![name])],
            "{name}"
        );
    }
}

#[test]
fn lifecycle_events_are_clean() {
    let findings = crate::catalog::catalog().lint();
    let lifecycle: Vec<_> = findings
        .iter()
        .filter(|f| f.events.iter().any(|e| e.starts_with("telemetry.")))
        .collect();
    assert!(lifecycle.is_empty(), "{lifecycle:#?}");
}

#[test]
fn errors_sort_before_warnings() {
    let a = success("task.created", "Task created.", vec![], "src/a.rs", 1);
    let b = success("zeta.created", "", vec![], "src/b.rs", 1);
    let findings = Catalog::from_defs([a, b]).lint();
    assert_eq!(findings[0].severity(), Severity::Error);
    assert_eq!(findings[1].severity(), Severity::Warning);
    assert_eq!(Lint::ALL.len(), 10);
}
