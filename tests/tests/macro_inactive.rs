//! With no recorder and no pipeline, an instrumented call evaluates nothing.
//!
//! Its own test binary: a recorder active in any other test of the same process would switch
//! the hot path on for every thread.

use std::sync::atomic::{AtomicUsize, Ordering};

use telemetry_core::{track, track_event};

static EVALUATED: AtomicUsize = AtomicUsize::new(0);

/// Counts how often a property expression runs.
fn counted(value: u32) -> u32 {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    value
}

/// Something happened.
#[track_event("inactive.returned", props(value = counted(n)), distinct_id = counted(n) as u64)]
fn on_return(n: u32) -> u32 {
    n + 1
}

/// Something started.
#[track_event("inactive.called", on = "call", props(value = counted(n)))]
fn on_call(n: u32) -> u32 {
    n + 1
}

/// Something succeeded.
#[track_event("inactive.succeeded", on = "success", props(value = counted(n)))]
async fn on_success(n: u32) -> Result<u32, ()> {
    Ok(n + 1)
}

fn inline(n: u32) -> u32 {
    track!(
        "inactive.inline",
        description = "Inline.",
        props(value = counted(n))
    );
    n + 1
}

#[test]
fn nothing_is_evaluated_when_telemetry_is_off() {
    assert!(!telemetry_core::__private::is_active());
    assert_eq!(on_return(1), 2);
    assert_eq!(on_call(1), 2);
    assert_eq!(inline(1), 2);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(on_success(1)), Ok(2));
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 0);

    // The same calls under a recorder do evaluate: the counter is wired up.
    let events = telemetry_core::testing::record(|| {
        on_return(1);
        on_call(1);
        inline(1);
    });
    assert_eq!(events.len(), 3);
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 4);
}
