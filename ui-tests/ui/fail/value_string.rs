use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(project_id = id, kind = kind))]
fn created(id: u64, kind: String) {}

fn main() {
    created(1, String::from("internal"));
}
