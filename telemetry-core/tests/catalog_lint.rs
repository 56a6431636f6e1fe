//! Lints on the catalog of a binary, as `inventory` collects it: conflicting declarations of one
//! event in two modules, and names that differ only by punctuation. (Each lint is also unit
//! tested in `src/catalog/lint/tests.rs`.)

use telemetry_core::catalog::{DocumentMismatch, Format, Lint, Severity, check_document};
use telemetry_core::{EventDef, PropDef, Trigger, ValueKind};

mod common {
    pub mod catalog;
}
use common::catalog::{declaration, register, site};

mod board {
    use super::*;

    pub static STATUS_CHANGED: EventDef = declaration(
        "task.status_changed",
        "A task was moved to another column of the board.",
        Trigger::Success,
        &[PropDef::new("task_id", "u64", ValueKind::Integer, &[])],
        site!("drop_card", "examples/timetracker/src/board.rs", 12),
    );
    register!(STATUS_CHANGED);
}

mod tasks {
    use super::*;

    pub static STATUS_CHANGED: EventDef = declaration(
        "task.status_changed",
        "A task was moved to another column of the board.",
        Trigger::Return,
        &[PropDef::new("task_id", "String", ValueKind::Hashed, &[])],
        site!("set_status", "examples/timetracker/src/tasks.rs", 40),
    );
    register!(STATUS_CHANGED);

    pub static STATUSCHANGED: EventDef = declaration(
        "task.statuschanged",
        "A task's status was changed from the task page.",
        Trigger::Success,
        &[],
        site!("edit_task", "examples/timetracker/src/tasks.rs", 90),
    );
    register!(STATUSCHANGED);
}

#[test]
fn the_linked_catalog_reports_conflicts_and_confusable_names_with_sites() {
    let catalog = telemetry_core::catalog();
    // Conflicting declarations still merge into one entry (no panic), with both sites.
    let entry = catalog.entry("task.status_changed").unwrap();
    assert_eq!(entry.sites.len(), 2);

    let findings = catalog.lint();
    let summary: Vec<(Lint, Vec<&str>)> = findings
        .iter()
        .map(|f| (f.lint, f.events.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (Lint::ConflictingDeclarations, vec!["task.status_changed"]),
            (
                Lint::ConfusableNames,
                vec!["task.status_changed", "task.statuschanged"]
            ),
        ]
    );
    assert!(findings.iter().all(|f| f.severity() == Severity::Error));

    let conflict = findings[0].to_string();
    assert!(
        conflict.contains("trigger: `success` at src/board.rs:12; `return` at src/tasks.rs:40"),
        "{conflict}"
    );
    assert!(conflict.contains(
        "property `task_id`: integer (identifier) at src/board.rs:12; hashed (pseudonymous) at src/tasks.rs:40"
    ), "{conflict}");
    assert!(
        conflict.contains("--> src/board.rs:12 (catalog_lint::board::drop_card)"),
        "{conflict}"
    );
    assert!(
        conflict.contains("--> src/tasks.rs:40 (catalog_lint::tasks::set_status)"),
        "{conflict}"
    );

    let confusable = findings[1].to_string();
    assert!(
        confusable.contains("--> src/tasks.rs:90 (catalog_lint::tasks::edit_task)"),
        "{confusable}"
    );
}

#[test]
fn the_document_check_fails_on_them_whatever_the_file_says() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("catalog_lint.md");
    std::fs::write(&path, telemetry_core::catalog().to_markdown()).unwrap();
    let err = check_document(&path, Format::Markdown).unwrap_err();
    let DocumentMismatch::Lint { findings, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(findings.len(), 2);
    let message = err.to_string();
    assert!(
        message.starts_with("the telemetry catalog has 2 errors"),
        "{message}"
    );
}
