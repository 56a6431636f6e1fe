//! Exact accounting of every captured event.
//!
//! Each event ends in exactly one bucket: sent, failed (the sink rejected it), or dropped (queue
//! full, discarded when consent was withdrawn, abandoned at a shutdown that ran out of time, or
//! dropped by the remote kill switch).
//! `captured == sent + failed + dropped + queued` holds whenever the pipeline is quiet.
//!
//! The outage spool is counted beside these buckets, not in them: an event that failed (or was
//! still on the wire when a shutdown gave up) is counted `failed` (or `dropped`) *and*
//! `spooled`; when the spool delivers it later it is counted `recovered`, which may also be an
//! event captured by an earlier run. So `sent` is what arrived on the first try, and
//! `sent + recovered` everything that arrived in this run.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) struct Counters {
    /// Taken off the queue by a worker.
    pub received: AtomicU64,
    /// Refused at the door because the queue was full.
    pub queue_full: AtomicU64,
    /// Accepted by a sink.
    pub sent: AtomicU64,
    /// Rejected by a sink (after its own retries).
    pub failed: AtomicU64,
    /// Thrown away because consent was withdrawn.
    pub discarded: AtomicU64,
    /// Still queued when a bounded shutdown gave up.
    pub abandoned: AtomicU64,
    /// Received by the worker but not yet sent, failed or dropped.
    pub holding: AtomicU64,
    /// Deliveries during which the sink panicked.
    pub sink_panics: AtomicU64,
    /// Written to the outage spool (also counted failed or abandoned).
    pub spooled: AtomicU64,
    /// Delivered from the outage spool.
    pub recovered: AtomicU64,
    /// Removed from the spool unsent: older than its age bound.
    pub spool_expired: AtomicU64,
    /// Removed from the spool unsent: the oldest, to keep its size bound.
    pub spool_overflowed: AtomicU64,
    /// Removed from the spool: a re-send was rejected for good (`SinkError::is_permanent`).
    pub spool_rejected: AtomicU64,
    /// Dropped by the remote kill switch (flag off, or the event on its drop list).
    pub remote: AtomicU64,
}

pub(crate) static COUNTERS: Counters = Counters {
    received: AtomicU64::new(0),
    queue_full: AtomicU64::new(0),
    sent: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    discarded: AtomicU64::new(0),
    abandoned: AtomicU64::new(0),
    holding: AtomicU64::new(0),
    sink_panics: AtomicU64::new(0),
    spooled: AtomicU64::new(0),
    recovered: AtomicU64::new(0),
    spool_expired: AtomicU64::new(0),
    spool_overflowed: AtomicU64::new(0),
    spool_rejected: AtomicU64::new(0),
    remote: AtomicU64::new(0),
};

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn sub(counter: &AtomicU64, n: usize) {
        counter.fetch_sub(n as u64, Ordering::Relaxed);
    }
}

/// A snapshot of the pipeline's counters since the process started.
///
/// ```
/// let stats = telemetry_core::stats();
/// // Every captured event is in exactly one bucket, or still queued.
/// assert!(stats.captured >= stats.sent + stats.failed + stats.dropped);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Events handed to the pipeline by instrumented code.
    pub captured: u64,
    /// Events a sink accepted.
    pub sent: u64,
    /// Events dropped: queue full, discarded after consent was withdrawn, or abandoned at a
    /// shutdown that ran out of time.
    pub dropped: u64,
    /// Of `dropped`, those refused because the queue was full.
    pub dropped_queue_full: u64,
    /// Of `dropped`, those the remote kill switch dropped (its flag off for this install, or
    /// the event on its drop list).
    pub dropped_remotely: u64,
    /// Events a sink rejected (after its retries).
    pub failed: u64,
    /// Events still waiting in the queue or in the worker.
    pub queued: u64,
    /// Deliveries during which the sink panicked. The panic is caught, the batch counted as
    /// failed, and the worker goes on with the next one.
    pub sink_panics: u64,
    /// Events of this run written to the outage spool because delivery failed (they are also
    /// in `failed`) or because they were on the wire when a shutdown gave up (also in
    /// `dropped`). See [`SpoolLimits`](crate::SpoolLimits).
    pub spooled: u64,
    /// Events delivered from the outage spool, captured by this run or an earlier one (not in
    /// `sent`, which counts first attempts).
    pub recovered: u64,
    /// Spooled events removed unsent because they were older than the spool's age bound.
    pub spool_expired: u64,
    /// Spooled events removed unsent (the oldest) to keep the spool within its size bound.
    pub spool_overflowed: u64,
    /// Spooled events removed because PostHog rejected their re-send for good (a 4xx answer
    /// other than 408 and 429, e.g. 401 for a project key revoked meanwhile): sending them
    /// again could never succeed. A first attempt rejected that way is never spooled (it is
    /// counted in `failed` only).
    pub spool_rejected: u64,
}

pub(crate) fn snapshot(in_channel: usize) -> Stats {
    let c = &COUNTERS;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let queue_full = load(&c.queue_full);
    let in_channel = in_channel as u64;
    Stats {
        captured: load(&c.received) + queue_full + in_channel,
        sent: load(&c.sent),
        dropped: queue_full + load(&c.discarded) + load(&c.abandoned) + load(&c.remote),
        dropped_queue_full: queue_full,
        dropped_remotely: load(&c.remote),
        failed: load(&c.failed),
        queued: load(&c.holding) + in_channel,
        sink_panics: load(&c.sink_panics),
        spooled: load(&c.spooled),
        recovered: load(&c.recovered),
        spool_expired: load(&c.spool_expired),
        spool_overflowed: load(&c.spool_overflowed),
        spool_rejected: load(&c.spool_rejected),
    }
}
