use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(label = Box::leak(label.into_boxed_str())))]
fn created(label: String) {}

fn main() {
    created("Secret project".into());
}
