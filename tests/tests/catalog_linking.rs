//! The catalog of a binary holds exactly the events of the crates it links.
//!
//! This test binary links the `quickstart` example's handlers from a second crate without
//! calling them; naming the crate once (`use quickstart as _;`) is what links it.

use quickstart as _;

#[test]
fn events_of_a_linked_crate_are_in_the_catalog_without_being_called() {
    let catalog = telemetry_core::catalog();
    let from_quickstart: Vec<_> = catalog
        .events()
        .iter()
        .filter(|e| e.site.file.ends_with("examples/quickstart/src/handlers.rs"))
        .map(|e| e.name)
        .collect();
    for name in [
        "auth.login",
        "project.created",
        "timer.started",
        "timer.stopped",
        "export.csv",
    ] {
        assert!(
            from_quickstart.contains(&name),
            "{name} missing: {from_quickstart:?}"
        );
    }
    let created = catalog
        .events()
        .iter()
        .find(|e| e.name == "project.created")
        .unwrap();
    assert_eq!(created.site.module_path, "quickstart::handlers");
    assert_eq!(created.site.function, "create_project");
    let props: Vec<_> = created.props.iter().map(|p| p.name).collect();
    assert_eq!(props, ["project_id", "billable"]);
}

#[test]
fn lifecycle_events_are_always_in_the_catalog() {
    let names: Vec<_> = telemetry_core::catalog()
        .events()
        .iter()
        .map(|e| e.name)
        .collect();
    for name in ["telemetry.install", "telemetry.update", "telemetry.health"] {
        assert!(names.contains(&name));
    }
}
