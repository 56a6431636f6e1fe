use telemetry_core::track_event;

/// A project was renamed.
#[track_event("project.renamed", props(name = telemetry_core::Hashed(new_name)))]
fn rename(new_name: &str) {
    let _ = new_name;
}

fn main() {
    rename("Apollo");
}
