use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("Timer.Stopped")]
fn stop() {}

fn main() {
    stop();
}
