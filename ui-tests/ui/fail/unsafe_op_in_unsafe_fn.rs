// The body of an `unsafe fn` is not wrapped in `unsafe { }`, so the lint still sees the
// unsafe operation the user wrote without a block.
#![deny(unsafe_op_in_unsafe_fn)]

use telemetry_core::track_event;

/// A value was read through a raw pointer.
#[track_event("value.read")]
unsafe fn read(ptr: *const u32) -> u32 {
    *ptr
}

fn main() {
    let value = 1;
    // SAFETY: `value` outlives the call.
    let _ = unsafe { read(&value) };
}
