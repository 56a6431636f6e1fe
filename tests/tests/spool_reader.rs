//! The spool reader on hostile inputs (the regression side of `fuzz/fuzz_targets/spool_reader.rs`,
//! with the same checks, run on stable in CI): never a panic, nothing accepted from a file that
//! is not bound to this destination, and a claim never yields more than the reader accepts.

use telemetry_core::__private::internals::spool::{FORMAT, Spool, parse};
use telemetry_core::SpoolLimits;

const HOST: &str = "http://127.0.0.1:1";
const KEY: &str = "phc_reader";

fn valid_spool_text(binding: &str) -> String {
    format!(
        "{{\"spool\":\"{FORMAT}\",\"host\":\"{HOST}\",\"binding\":\"{binding}\"}}\n\
         {{\"event\":\"a\",\"distinct_id\":\"d\",\"uuid\":\"u1\",\"timestamp\":\"2099-01-01T00:00:00.000000Z\",\"properties\":{{\"k\":1}}}}\n"
    )
}

/// The checks of the fuzz target, for one input.
fn check(dir: &std::path::Path, data: &[u8]) -> usize {
    let any = parse(data, None);
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(any.events.len() + any.skipped <= lines, "{data:?}");
    if any.header.is_none() {
        assert!(any.events.is_empty(), "{data:?}");
    }
    let spool = Spool::new(dir, HOST, KEY, SpoolLimits::default());
    telemetry_core::__private::internals::spool::delete_all(dir);
    std::fs::write(spool.path(), data).unwrap();
    let mut claimed = 0;
    while let Ok(Some(claim)) = spool.claim(100) {
        claimed += claim.events.len();
        claim.finish(true);
    }
    claimed
}

#[test]
fn hostile_spool_files_never_panic_and_yield_only_bound_events() {
    let dir = telemetry_tests::child::temp_dir("spool-reader");
    // The real binding, learnt from a file the spool writes itself.
    let spool = Spool::new(&dir, HOST, KEY, SpoolLimits::default());
    let header = {
        let text = valid_spool_text("x");
        std::fs::write(spool.path(), &text).unwrap();
        let event = parse(text.as_bytes(), None).events;
        spool.append(&event).unwrap();
        let bytes = std::fs::read(spool.path()).unwrap();
        parse(&bytes, None)
            .header
            .expect("the spool writes a header")
    };
    let good = valid_spool_text(&header.binding);
    let deep = "[".repeat(10_000);
    let mut torn = good.clone().into_bytes();
    torn.truncate(torn.len() - 7);
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\n".to_vec(),
        vec![0xff; 4096],
        deep.into_bytes(),
        format!("{good}{{\"event\":\"a\"}}\n\u{0}\u{0}\n").into_bytes(),
        good.replace(&header.binding, "another-binding")
            .into_bytes(),
        good.replace(FORMAT, "telemetry-core/spool/v0").into_bytes(),
        torn,
        format!("\n{good}").into_bytes(),
        good.replace("\"k\":1", "\"k\":1e999999").into_bytes(),
    ];
    let expected = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    for (input, want) in inputs.iter().zip(expected) {
        assert_eq!(
            check(&dir, input),
            want,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(check(&dir, good.as_bytes()), 1);
}
