use telemetry_core::track_event;

/// A timer was stopped.
#[track_event("timer.stopped", on = "error")]
fn stop() -> Result<(), ()> {
    Ok(())
}

fn main() {
    let _ = stop();
}
