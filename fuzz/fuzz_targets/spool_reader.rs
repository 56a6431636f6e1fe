//! The outage spool's reader: whatever bytes a spool file holds (a torn write, garbage, a file
//! bound to another destination), `parse` never panics, keeps only events bound to the given
//! destination, and what it keeps survives a write/read round trip; a claim on such a file
//! never panics and never yields an event the reader did not accept.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use telemetry_core::SpoolLimits;
use telemetry_core::__private::internals::spool::{FORMAT, Header, Spool, parse};

const HOST: &str = "http://127.0.0.1:1";
const KEY: &str = "phc_fuzz";

/// One directory per fuzzing process, on tmpfs when there is one (the spool fsyncs).
static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("telemetry-fuzz-spool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("fuzz dir");
    dir
});

fuzz_target!(|data: &[u8]| {
    let any = parse(data, None);
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(any.events.len() + any.skipped <= lines);
    if let Some(header) = &any.header {
        assert_eq!(header.spool, FORMAT);
        let bound = parse(data, Some(&header.binding));
        assert_eq!(bound.events, any.events);
        // Round trip: what was accepted, written back, reads the same.
        let mut text = serde_json::to_vec(header).unwrap();
        text.push(b'\n');
        for event in &any.events {
            text.extend(serde_json::to_vec(event).unwrap());
            text.push(b'\n');
        }
        let again = parse(&text, Some(&header.binding));
        assert_eq!(again.events, any.events);
        assert_eq!(again.skipped, 0);
        let elsewhere = parse(data, Some("not the binding"));
        assert!(header.binding == "not the binding" || elsewhere.events.is_empty());
    } else {
        assert!(any.events.is_empty());
    }

    // The same bytes as this destination's spool file: a claim never panics and only yields
    // what the reader accepts for this destination.
    let spool = Spool::new(&*DIR, HOST, KEY, SpoolLimits::default());
    let _ = telemetry_core::__private::internals::spool::delete_all(&DIR);
    std::fs::write(spool.path(), data).unwrap();
    let expected = match &any.header {
        Some(Header { binding, .. }) => parse(data, Some(binding)).events.len(),
        None => 0,
    };
    let mut claimed = 0;
    while let Ok(Some(claim)) = spool.claim(100) {
        claimed += claim.events.len() + claim.expired;
        claim.finish(true);
    }
    assert!(claimed <= expected);
});
