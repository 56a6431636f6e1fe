use telemetry_core::track_event;

/// A request arrived.
#[track_event("request.received", props(ip = telemetry_core::Hashed(peer)))]
fn received(peer: &str) {
    let _ = peer;
}

fn main() {
    received("10.0.0.1");
}
