use telemetry_core::track_event;

/// A user signed up.
#[track_event("user.signed_up", props(user_email = verified))]
fn sign_up(verified: bool) {
    let _ = verified;
}

fn main() {
    sign_up(true);
}
