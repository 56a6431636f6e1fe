use telemetry_core::track_event;

/// The limit was read.
#[track_event("limit.read")]
const fn limit() -> u32 {
    10
}

fn main() {
    let _ = limit();
}
