// `has_*`/`is_*` properties are flags: a number or an enum under such a name is rejected.
use telemetry_core::{PropertyValue, track_event};

#[derive(Clone, Copy, PropertyValue)]
enum Role {
    Admin,
    Member,
}

/// A user signed in.
#[track_event("user.signed_in", props(has_email = 3u32, is_admin = role, has_phone: u8 = 1))]
fn signed_in(role: Role) {}

fn main() {
    signed_in(Role::Admin);
}
