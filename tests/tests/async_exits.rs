//! Every way out of an instrumented `async fn` goes through its capture point: the attribute runs
//! the body in place with `return` and `?` rewritten as breaks (or, where that rewrite would not
//! be exact, inside an `async` block), and what nested closures, `async` blocks and items return
//! stays theirs.

use telemetry_core::testing::record_async;
use telemetry_core::track_event;

#[derive(Debug, PartialEq)]
struct AppError(String);

impl From<std::num::ParseIntError> for AppError {
    fn from(e: std::num::ParseIntError) -> AppError {
        AppError(e.to_string())
    }
}

/// A number was parsed (`?` with a `From` conversion, and an early `return`).
#[track_event("exits.parsed", on = "success", props(length = input.len()))]
async fn parse(input: &str) -> Result<u32, AppError> {
    std::future::ready(()).await;
    if input.is_empty() {
        return Ok(0);
    }
    let n: u32 = input.parse()?;
    std::future::ready(()).await;
    Ok(n)
}

/// A lookup failed (`?` on an `Option`).
#[track_event("exits.lookup_failed", on = "failure")]
async fn lookup(values: &[u32], i: usize) -> Option<u32> {
    std::future::ready(()).await;
    let v = values.get(i)?;
    Some(v * 2)
}

/// Returns from nested closures, `async` blocks and items are theirs, not the function's.
#[track_event("exits.nested", on = "call")]
async fn nested(x: u32) -> u32 {
    let closure = |y: u32| -> u32 {
        if y > 1 {
            return y * 10;
        }
        y
    };
    let block = async move {
        if x == 0 {
            return 7;
        }
        x
    };
    fn item(z: u32) -> Option<u32> {
        let w = z.checked_sub(1)?;
        Some(w)
    }
    closure(x) + block.await + item(x).unwrap_or(100)
}

/// A `?` inside a macro call: the body keeps the `async` block form and still captures.
#[track_event("exits.formatted", on = "success")]
async fn formatted(input: &str) -> Result<String, AppError> {
    std::future::ready(()).await;
    Ok(format!("<{}>", input.parse::<u32>()?))
}

/// Like `anyhow::bail!`: a `return` that only the macro's expansion contains.
macro_rules! bail {
    ($message:expr) => {
        return Err(AppError($message.to_owned()))
    };
}

/// A check failed, through a macro that returns (the body keeps the `async` block form).
#[track_event("exits.checked", on = "failure")]
async fn checked(ok: bool) -> Result<(), AppError> {
    std::future::ready(()).await;
    if !ok {
        bail!("not ok");
    }
    Ok(())
}

/// A unit function that returns early.
#[track_event("exits.unit", on = "call")]
async fn unit(early: bool) {
    std::future::ready(()).await;
    if early {
        return;
    }
    std::future::ready(()).await;
}

#[tokio::test]
async fn every_exit_goes_through_the_capture_point() {
    let events = record_async(async {
        assert_eq!(parse("").await, Ok(0));
        assert_eq!(parse("12").await, Ok(12));
        assert!(parse("x").await.is_err());
        assert_eq!(lookup(&[1, 2], 1).await, Some(4));
        assert_eq!(lookup(&[1, 2], 5).await, None);
        // closure(2) = 20, block = 2, item(2) = 1; closure(0) = 0, block = 7, item(0) = 100.
        assert_eq!(nested(2).await, 23);
        assert_eq!(nested(0).await, 107);
        assert_eq!(formatted("5").await, Ok("<5>".to_owned()));
        assert!(formatted("five").await.is_err());
        unit(true).await;
        unit(false).await;
        assert!(checked(true).await.is_ok());
        assert!(checked(false).await.is_err());
    })
    .await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.name, e.properties.get("length").cloned()))
        .collect();
    use serde_json::json;
    assert_eq!(
        seen,
        [
            ("exits.parsed", Some(json!(0))),
            ("exits.parsed", Some(json!(2))),
            ("exits.lookup_failed", None),
            ("exits.nested", None),
            ("exits.nested", None),
            ("exits.formatted", None),
            ("exits.unit", None),
            ("exits.unit", None),
            ("exits.checked", None),
        ]
    );
}
