use telemetry_core::track_event;

/// A time entry was stopped.
#[track_event("timer.stopped", props(seconds: u64 = secs))]
fn stop(secs: u32) {}

fn main() {
    stop(1);
}
