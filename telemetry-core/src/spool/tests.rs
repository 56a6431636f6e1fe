//! The spool on real files: bounds, permissions, claims, orphans, expiry.

use std::time::Duration;

use super::*;
use crate::wire::WireEvent;

fn event(n: u32, at: chrono::DateTime<chrono::Utc>) -> WireEvent {
    WireEvent {
        event: "spool.test".into(),
        distinct_id: "d".repeat(64),
        uuid: format!("00000000-0000-7000-8000-{n:012}"),
        timestamp: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        properties: serde_json::Map::from_iter([("n".to_owned(), n.into())]),
    }
}

fn events(range: std::ops::Range<u32>) -> Vec<WireEvent> {
    let start = chrono::Utc::now() - chrono::Duration::seconds(60);
    range
        .map(|n| event(n, start + chrono::Duration::milliseconds(i64::from(n))))
        .collect()
}

fn ns(events: &[WireEvent]) -> Vec<u64> {
    events
        .iter()
        .map(|e| e.properties["n"].as_u64().unwrap())
        .collect()
}

fn spool(dir: &std::path::Path, max_bytes: u64) -> Spool {
    Spool::new(
        dir,
        "http://127.0.0.1:1",
        "phc_k",
        SpoolLimits {
            max_bytes,
            ..SpoolLimits::default()
        },
    )
}

#[test]
fn claims_come_back_oldest_first_and_a_finished_claim_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let s = spool(dir.path(), 1 << 20);
    s.append(&events(0..5)).unwrap();
    s.append(&events(5..8)).unwrap();
    assert_eq!(s.pending(), 8);
    let first = s.claim(4).unwrap().unwrap();
    assert_eq!(ns(&first.events), [0, 1, 2, 3]);
    // Held by this claim: a second claim gets the next batch, never the same events.
    let second = s.claim(10).unwrap().unwrap();
    assert_eq!(ns(&second.events), [4, 5, 6, 7]);
    second.finish(true);
    first.finish(false);
    // The unfinished one is an orphan: claimed again, first.
    let again = s.claim(10).unwrap().unwrap();
    assert_eq!(ns(&again.events), [0, 1, 2, 3]);
    again.finish(true);
    assert!(s.claim(10).unwrap().is_none());
    assert_eq!(s.pending(), 0);
}

#[cfg(unix)]
#[test]
fn files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let s = spool(dir.path(), 1 << 20);
    s.append(&events(0..3)).unwrap();
    let claim = s.claim(1).unwrap().unwrap();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{:?}", entry.file_name());
    }
    claim.finish(true);
}

#[test]
fn the_size_bound_drops_the_oldest_by_capture_time() {
    let dir = tempfile::tempdir().unwrap();
    let one = record::line(&events(0..1)[0]).len() as u64;
    let header = record::header_line(&spool(dir.path(), 0).header).len() as u64;
    let s = spool(dir.path(), header + 5 * one + one / 2);
    // Spooled out of capture order, as the pipeline may.
    let all = events(0..8);
    assert_eq!(s.append(&all[4..8]).unwrap().overflowed, 0);
    let appended = s.append(&all[0..4]).unwrap();
    assert_eq!(appended.overflowed, 3);
    assert_eq!(appended.written, 1);
    let claim = s.claim(100).unwrap().unwrap();
    assert_eq!(ns(&claim.events), [3, 4, 5, 6, 7]);
    assert!(std::fs::metadata(s.path()).map_or(0, |m| m.len()) <= s.limits().max_bytes);
}

#[test]
fn expired_events_are_removed_unsent_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let s = Spool::new(
        dir.path(),
        "h",
        "k",
        SpoolLimits {
            max_age: Duration::from_secs(3600),
            ..SpoolLimits::default()
        },
    );
    let now = chrono::Utc::now();
    s.append(&[
        event(1, now - chrono::Duration::hours(2)),
        event(2, now - chrono::Duration::minutes(1)),
    ])
    .unwrap();
    let claim = s.claim(10).unwrap().unwrap();
    assert_eq!(claim.expired, 1);
    assert_eq!(ns(&claim.events), [2]);
}

#[test]
fn a_spool_is_only_read_for_its_own_host_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let ours = Spool::new(
        dir.path(),
        "https://a.example",
        "phc_a",
        SpoolLimits::default(),
    );
    ours.append(&events(0..2)).unwrap();
    let other_key = Spool::new(
        dir.path(),
        "https://a.example",
        "phc_b",
        SpoolLimits::default(),
    );
    let other_host = Spool::new(
        dir.path(),
        "https://b.example",
        "phc_a",
        SpoolLimits::default(),
    );
    assert!(other_key.claim(10).unwrap().is_none());
    assert!(other_host.claim(10).unwrap().is_none());
    // Even a file copied under the other's name is refused by its header.
    std::fs::copy(ours.path(), other_key.path()).unwrap();
    assert!(other_key.claim(10).unwrap().is_none());
    assert_eq!(ours.pending(), 2);
    let text = std::fs::read_to_string(ours.path()).unwrap();
    assert!(!text.contains("phc_a"), "the key is never written");
}

#[test]
fn torn_and_garbage_lines_are_skipped_and_healed_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = spool(dir.path(), 1 << 20);
    s.append(&events(0..3)).unwrap();
    let mut bytes = std::fs::read(s.path()).unwrap();
    bytes.extend(b"\x00garbage\n{\"event\":\"torn");
    std::fs::write(s.path(), bytes).unwrap();
    let parsed = parse(&std::fs::read(s.path()).unwrap(), None);
    assert_eq!((parsed.events.len(), parsed.skipped), (3, 2));
    s.append(&events(3..4)).unwrap();
    let parsed = parse(&std::fs::read(s.path()).unwrap(), None);
    assert_eq!(parsed.skipped, 0, "rewritten without the damage");
    assert_eq!(ns(&parsed.events), [0, 1, 2, 3]);
}

#[test]
fn delete_all_removes_spools_and_in_flight_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s = spool(dir.path(), 1 << 20);
    s.append(&events(0..3)).unwrap();
    let claim = s.claim(1).unwrap().unwrap();
    drop(claim);
    assert_eq!(delete_all(dir.path()), 2);
    assert_eq!(s.pending(), 0);
}
