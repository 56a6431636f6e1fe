use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer_stopped")]
fn stop() {}

fn main() {
    stop();
}
