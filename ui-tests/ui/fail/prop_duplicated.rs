use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer.stopped", props(seconds = secs, project_id = id, seconds = secs * 2))]
fn stop(id: u64, secs: u64) {
    let _ = (id, secs);
}

fn main() {
    stop(1, 2);
}
