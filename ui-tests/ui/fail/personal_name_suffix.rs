use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(project_name = "default"))]
fn created() {}

fn main() {
    created();
}
