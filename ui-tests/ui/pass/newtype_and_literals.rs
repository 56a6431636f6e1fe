// Numeric newtypes derive PropertyValue; string literals written in props are sent as they are;
// flags take bools; an `unsafe fn` with correct `unsafe { }` blocks warns about nothing.
#![deny(warnings, unsafe_op_in_unsafe_fn)]

use std::time::Duration;

use telemetry_core::{PropertyValue, track, track_event};

#[derive(Clone, Copy, PropertyValue)]
struct ProjectId(i64);

#[derive(Clone, Copy, PropertyValue)]
struct Elapsed {
    took: Duration,
}

#[derive(Clone, Copy, PropertyValue)]
struct Archived(bool);

/// A project was archived.
#[track_event(
    "project.archived",
    props(project = id, took = elapsed, archived = archived, source = "api", is_bulk = false)
)]
fn archive(id: ProjectId, elapsed: Elapsed, archived: Archived) {
    track!(
        "project.archive_checked",
        description = "An archive was checked.",
        props(kind = ("monthly"), typed: &'static str = "x", has_project = id.0 > 0)
    );
}

/// A value was read.
///
/// # Safety
/// `ptr` must be valid for reads.
#[track_event("value.read", props(is_null = ptr.is_null()))]
unsafe fn read(ptr: *const u32) -> u32 {
    // SAFETY: guaranteed by the caller.
    unsafe { *ptr }
}

/// A location-reporting helper ran.
#[track_event("value.located", on = "call")]
#[track_caller]
fn located() -> u32 {
    std::panic::Location::caller().line()
}

fn main() {
    archive(
        ProjectId(1),
        Elapsed {
            took: Duration::ZERO,
        },
        Archived(true),
    );
    let value = 1;
    // SAFETY: `value` outlives the call.
    let _ = unsafe { read(&value) };
    assert_eq!(located(), line!());
}
