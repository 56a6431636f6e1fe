use telemetry_core::track_event;

/// A value was checked.
#[track_event("value.checked", on = "success")]
#[track_caller]
fn check(n: u32) -> Result<u32, String> {
    Ok(n)
}

fn main() {
    let _ = check(1);
}
