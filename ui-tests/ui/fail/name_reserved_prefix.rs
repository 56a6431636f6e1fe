use telemetry_core::track_event;

/// The app was installed.
#[track_event("telemetry.install")]
fn installed() {}

fn main() {
    installed();
}
