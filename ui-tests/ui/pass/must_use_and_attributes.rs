// The signature's attributes are kept: `#[must_use]`, lints, inner attributes, cfg, docs.
// `expect`, not `allow`: an expectation the macro lost or left unfulfilled fails the build.
#![deny(warnings, unused_must_use)]

use telemetry_core::track_event;

/// A value was computed.
#[track_event("value.computed")]
#[must_use = "the value is the point"]
#[inline]
#[expect(clippy::needless_return)]
fn compute() -> u32 {
    #![expect(unused_variables)]
    let unused = 1;
    return 4;
}

/// Only on unix.
#[track_event("platform.checked")]
#[cfg(unix)]
fn checked() -> bool {
    true
}

/// Everywhere else.
#[track_event("platform.checked")]
#[cfg(not(unix))]
fn checked() -> bool {
    false
}

#[deprecated = "use compute"]
/// Deprecated, still tracked.
#[track_event("value.legacy")]
fn legacy() -> u32 {
    1
}

fn main() {
    let _ = compute();
    let _ = checked();
    #[expect(deprecated)]
    let _ = legacy();
}
