use telemetry_core::track_event;

/// A doc comment does not rescue an empty explicit description.
#[track_event("timer.stopped", description = "  ")]
fn stop() {}

fn main() {
    stop();
}
