//! What `#[track_event]` adds to an `async fn`'s future: at most a pointer to a boxed pending
//! capture (held across the body's `.await`s), whatever the event declares.
//!
//! The future is moved on every spawn and `pin!`, and its size is paid with telemetry off too
//! (a layout cannot depend on a runtime switch): it was 96 B for one property (plain: 16 B),
//! and grew with every property and a `distinct_id`, when the pending capture was held inline.

use std::mem::size_of_val;

use telemetry_core::{Hashed, track_event};

async fn plain(x: u64) -> u64 {
    std::future::ready(()).await;
    x.wrapping_mul(3)
}

/// One property.
#[track_event("future_size.one", props(x = x))]
async fn one(x: u64) -> u64 {
    std::future::ready(()).await;
    x.wrapping_mul(3)
}

/// Four properties and a per-call subject.
#[track_event(
    "future_size.four",
    on = "success",
    props(a = x, b = x + 1, c = x > 2, user = Hashed(x)),
    distinct_id = x
)]
async fn four(x: u64) -> Result<u64, ()> {
    std::future::ready(()).await;
    Ok(x.wrapping_mul(3))
}

/// The same body with no attribute.
async fn plain_result(x: u64) -> Result<u64, ()> {
    std::future::ready(()).await;
    Ok(x.wrapping_mul(3))
}

/// At most this much is added: the box pointer held across the `.await`, rounded up by
/// alignment. (With the body in an inner `async` block it was 32 B more: the block's own future.)
const BOUND: usize = 16;

#[test]
fn an_instrumented_future_grows_by_a_small_fixed_amount() {
    let (plain, one) = (size_of_val(&plain(1)), size_of_val(&one(1)));
    assert!(
        one <= plain + BOUND,
        "one property: {one} B vs {plain} B plain (bound +{BOUND} B)"
    );
    let (plain_result, four) = (size_of_val(&plain_result(1)), size_of_val(&four(1)));
    assert!(
        four <= plain_result + BOUND,
        "four properties and a distinct_id: {four} B vs {plain_result} B plain (bound +{BOUND} B)"
    );
    // What the event declares is behind the pointer, not in the future.
    assert_eq!(
        four - plain_result,
        one - plain,
        "{four} {plain_result} {one} {plain}"
    );
}
