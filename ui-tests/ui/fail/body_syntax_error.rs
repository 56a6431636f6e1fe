// A body that does not parse is still emitted as written: the only error is rustc's own, in
// the body, instead of one from the attribute on top.
use telemetry_core::track_event;

/// A project was created.
#[track_event("project.created", props(count = n))]
fn created(n: u32) -> u32 {
    let doubled = n * ;
    doubled
}

fn main() {
    created(1);
}
