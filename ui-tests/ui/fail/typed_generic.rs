use telemetry_core::{PropertyValue, track_event};

/// A value was stored.
#[track_event("value.stored", props(value: T = value))]
fn store<T: PropertyValue>(value: T) {
    let _ = value;
}

fn main() {
    store(1u8);
}
