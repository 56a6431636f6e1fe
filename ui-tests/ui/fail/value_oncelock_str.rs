use std::sync::OnceLock;

use telemetry_core::track_event;

static REGION: OnceLock<String> = OnceLock::new();

/// A project was created.
#[track_event("project.created", props(region = REGION.get().map(String::as_str)))]
fn created() {}

fn main() {
    created();
}
