use telemetry_core::track_event;

/// A page was viewed.
#[track_event("$pageview")]
fn viewed() {}

fn main() {
    viewed();
}
