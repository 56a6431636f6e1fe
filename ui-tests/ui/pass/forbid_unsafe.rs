// A crate that forbids unsafe code can still declare events.
#![forbid(unsafe_code)]
#![deny(warnings)]

use telemetry_core::{track, track_event};

/// Something happened.
#[track_event("thing.happened", props(count = n))]
fn happened(n: u32) -> u32 {
    track!("thing.inlined", description = "Inline.");
    n
}

fn main() {
    assert_eq!(happened(1), 1);
}
