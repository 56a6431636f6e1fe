use telemetry_core::track_event;

struct Entry;

/// A timer was stopped.
#[track_event("timer.stopped", on = "success")]
fn stop() -> Entry {
    Entry
}

fn main() {
    let _ = stop();
}
