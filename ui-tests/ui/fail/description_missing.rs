use telemetry_core::track_event;

#[track_event("timer.stopped")]
fn stop() {}

fn main() {
    stop();
}
