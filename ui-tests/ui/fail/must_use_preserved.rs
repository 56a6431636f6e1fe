// `#[must_use]` survives the expansion: ignoring the result is still an error here.
#![deny(unused_must_use)]

use telemetry_core::track_event;

/// A value was computed.
#[track_event("value.computed")]
#[must_use]
fn compute() -> u32 {
    4
}

fn main() {
    compute();
}
