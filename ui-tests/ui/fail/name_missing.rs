use telemetry_core::track_event;

/// A timer was stopped.
#[track_event(on = "call")]
fn stop() {}

fn main() {
    stop();
}
