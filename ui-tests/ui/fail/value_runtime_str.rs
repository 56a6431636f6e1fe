use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(label = label))]
fn created(label: &str) {
    let _ = label;
}

fn main() {
    created("internal");
}
