// Free functions, sync and async, with every `on`, `?` and early returns; warnings are errors.
#![deny(warnings)]

use telemetry_core::track_event;

#[derive(Debug)]
struct AppError;

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> AppError {
        AppError
    }
}

/// A number was parsed.
#[track_event("number.parsed", on = "success", props(length = input.len()))]
fn parse(input: &str) -> Result<u32, AppError> {
    if input.is_empty() {
        return Ok(0);
    }
    Ok(input.parse::<u32>()?)
}

/// A number failed to parse.
#[track_event("number.rejected", on = "failure")]
pub fn reject(input: &str) -> Result<u32, AppError> {
    Ok(input.parse()?)
}

/// Nothing was returned.
#[track_event("unit.done", on = "call")]
fn unit() {}

/// Explicit unit.
#[track_event("unit.explicit")]
fn explicit_unit() -> () {}

/// Loaded asynchronously.
#[track_event("record.loaded", on = "success", props(id = id))]
async fn load(id: u64) -> Result<u64, AppError> {
    if id == 0 {
        return Err(AppError);
    }
    let parsed: u64 = "7".parse()?;
    Ok(id + parsed)
}

/// Saved asynchronously, nothing returned.
#[track_event("record.saved")]
pub(crate) async fn save(id: u64) {
    let _ = load(id).await;
}

/// An unsafe function keeps its unsafe body.
#[track_event("memory.read")]
unsafe fn read(pointer: *const u8) -> u8 {
    unsafe { *pointer }
}

fn main() {
    parse("1").unwrap();
    reject("x").unwrap_err();
    unit();
    explicit_unit();
    let byte = 3u8;
    assert_eq!(unsafe { read(&byte) }, 3);
    let _future = save(1);
}
