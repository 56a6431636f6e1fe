use telemetry_core::track_event;

const EVENT: &str = "timer.stopped";

/// A timer was stopped.
#[track_event(EVENT)]
fn stop() {}

fn main() {
    stop();
}
