use telemetry_core::track_event;

pub struct Entry {
    pub project_id: u64,
}

/// A time entry was stopped.
#[track_event("timer.stopped", props(entry = entry))]
fn stop(entry: &Entry) {}

fn main() {
    stop(&Entry { project_id: 1 });
}
