// Runtime text the macro cannot see through (a method call on a `&str`) is still rejected, by
// the borrow checker: only `&'static str` is a property value.
use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(label = label.trim()))]
fn created(label: &str) {}

fn main() {
    created(" internal ");
}
