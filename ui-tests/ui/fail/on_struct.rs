use telemetry_core::track_event;

/// A timer.
#[track_event("timer.stopped")]
struct Timer {
    running: bool,
}

fn main() {
    let timer = Timer { running: true };
    let _ = timer.running;
}
