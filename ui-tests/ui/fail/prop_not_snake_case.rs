use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer.stopped", props(projectId = id))]
fn stop(id: u64) {
    let _ = id;
}

fn main() {
    stop(1);
}
