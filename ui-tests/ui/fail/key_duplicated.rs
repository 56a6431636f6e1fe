use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer.stopped", on = "call", on = "success")]
fn stop() {}

fn main() {
    stop();
}
