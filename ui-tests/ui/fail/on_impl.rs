use telemetry_core::track_event;

struct Timer;

/// Timer methods.
#[track_event("timer.stopped")]
impl Timer {
    fn stop(&self) {}
}

fn main() {
    Timer.stop();
}
