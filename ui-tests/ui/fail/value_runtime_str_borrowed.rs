// Runtime text the macro cannot see through (a method call on a `&str`) is still rejected: no
// `&str` is a property value, whatever its lifetime.
use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(label = label.trim()))]
fn created(label: &str) {}

fn main() {
    created(" internal ");
}
