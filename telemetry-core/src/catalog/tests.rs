//! Unit tests of the catalog: merging declarations, order, entries.

use super::test_support::def;
use super::*;
use crate::property::ValueKind;

#[test]
fn relative_file_strips_everything_up_to_the_crate_dir() {
    let cases = [
        (
            "examples/timetracker/src/handlers/task.rs",
            "src/handlers/task.rs",
        ),
        ("src/lib.rs", "src/lib.rs"),
        (
            "telemetry-core/examples/catalog_cli.rs",
            "examples/catalog_cli.rs",
        ),
        ("tests/tests/catalog_cli.rs", "tests/catalog_cli.rs"),
        ("tests/src/bin/catalog_cli.rs", "src/bin/catalog_cli.rs"),
        (
            "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/app-1.0.0/src/lib.rs",
            "src/lib.rs",
        ),
        (r"C:\work\app\src\main.rs", "src/main.rs"),
        (
            "telemetry-core/tests/catalog_json.rs",
            "tests/catalog_json.rs",
        ),
        ("build.rs", "build.rs"),
        ("./gen.rs", "gen.rs"),
    ];
    for (file, want) in cases {
        assert_eq!(crate_relative_file(file), want, "{file}");
    }
}

#[test]
fn declarations_of_one_name_merge_into_one_entry() {
    let prop = PropDef::new("task_id", "u64", ValueKind::Integer, &[]);
    let a = def(
        "task.created",
        "A task was created in a project.",
        Trigger::Success,
        vec![prop],
        "src/b.rs",
        20,
    );
    let b = def(
        "task.created",
        "A task was created in a project.",
        Trigger::Success,
        vec![prop],
        "src/a.rs",
        10,
    );
    let c = def(
        "project.created",
        "A project was created by someone.",
        Trigger::Return,
        vec![],
        "src/a.rs",
        1,
    );
    let catalog = Catalog::from_defs([a, b, c, a]);
    assert_eq!(catalog.events().len(), 3);
    let names: Vec<_> = catalog.entries().iter().map(|e| e.name).collect();
    assert_eq!(names, ["project.created", "task.created"]);
    let task = catalog.entry("task.created").unwrap();
    assert_eq!(task.sites.len(), 2);
    assert_eq!(task.sites[0].file, "src/a.rs");
    assert_eq!(task.declarations.len(), 2);
    assert_eq!(task.resource(), "task");
    assert!(catalog.entry("task.deleted").is_none());
    assert!(catalog.lint().is_empty());
}

#[test]
fn app_info_defaults() {
    let catalog = Catalog::from_defs([]);
    assert!(!catalog.has_app());
    assert_eq!(catalog.app().version, None);
    let catalog = catalog.with_app("x", "2");
    assert_eq!(catalog.app(), AppInfo::new("x", "2"));
    assert_eq!(resource_of("plain"), "plain");
}

#[test]
fn the_linked_catalog_has_the_lifecycle_events() {
    let catalog = catalog();
    let lifecycle: Vec<_> = catalog.lifecycle_events().map(|e| e.name).collect();
    assert_eq!(
        lifecycle,
        ["telemetry.health", "telemetry.install", "telemetry.update"]
    );
}
