use telemetry_core::track_event;

/// A user signed in.
#[track_event("user.signed_in", props(username = telemetry_core::Hashed(login)))]
fn sign_in(login: &str) {
    let _ = login;
}

fn main() {
    sign_in("ada");
}
