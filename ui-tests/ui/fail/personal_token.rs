use telemetry_core::track_event;

/// A session was refreshed.
#[track_event("session.refreshed", props(csrf_token = telemetry_core::Hashed(token)))]
fn refreshed(token: &str) {
    let _ = token;
}

fn main() {
    refreshed("abc");
}
