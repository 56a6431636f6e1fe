use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer.stopped", prop(seconds = secs))]
fn stop(secs: u64) {
    let _ = secs;
}

fn main() {
    stop(1);
}
