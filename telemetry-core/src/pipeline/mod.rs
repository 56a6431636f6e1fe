//! The bounded queue between instrumented code and the sinks, and its worker thread.
//!
//! Callers pay for one queue push ([`submit`]); a dedicated `std::thread` renders, hashes and
//! delivers in batches. The queue is bounded ([`PipelineConfig::queue_capacity`]): when it is
//! full, new events are dropped and counted, never blocking the caller. Shutdown is bounded
//! ([`PipelineConfig::shutdown_timeout`]): what cannot be delivered in time is counted as
//! dropped and the process is free to exit, even when PostHog hangs.

mod counters;
mod worker;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

pub use counters::Stats;
pub(crate) use worker::{Lifecycle, WorkerHandle, WorkerSetup};

use crate::capture::Capture;
use counters::{COUNTERS, Counters};

/// Tuning of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Events that may wait for delivery; beyond this new events are dropped and counted.
    /// Default 50 000 (about 10 MiB of compact events at most).
    pub queue_capacity: usize,
    /// Events per delivery (one HTTP request for PostHog). Default 500.
    pub batch_size: usize,
    /// How long an event may wait for a batch to fill. Default 1 s.
    pub flush_interval: Duration,
    /// How long shutdown may take before giving up on undelivered events. Default 2 s.
    pub shutdown_timeout: Duration,
}

impl Default for PipelineConfig {
    fn default() -> PipelineConfig {
        PipelineConfig {
            queue_capacity: 50_000,
            batch_size: 500,
            flush_interval: Duration::from_secs(1),
            shutdown_timeout: Duration::from_secs(2),
        }
    }
}

/// The process-wide queue. Unbounded underneath, so memory follows what is actually queued;
/// the bound is checked on push.
struct Queue {
    tx: Sender<Capture>,
    rx: Receiver<Capture>,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
static ACCEPTING: AtomicBool = AtomicBool::new(false);
static CAPACITY: AtomicUsize = AtomicUsize::new(50_000);
static FULL_REPORTED: AtomicBool = AtomicBool::new(false);

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded();
        Queue { tx, rx }
    })
}

/// Whether the pipeline takes new events.
pub(crate) fn accepting() -> bool {
    ACCEPTING.load(Ordering::Relaxed)
}

/// Opens or closes the door, and updates the hot-path switch.
pub(crate) fn set_accepting(on: bool) {
    ACCEPTING.store(on, Ordering::SeqCst);
    crate::capture::refresh_active();
}

pub(crate) fn set_capacity(capacity: usize) {
    CAPACITY.store(capacity.max(1), Ordering::Relaxed);
}

/// Queues a capture. Never blocks; a full queue drops the event and counts it.
#[inline]
pub(crate) fn submit(capture: Capture) {
    if !ACCEPTING.load(Ordering::Relaxed) {
        return;
    }
    let q = queue();
    if q.tx.len() >= CAPACITY.load(Ordering::Relaxed) {
        Counters::add(&COUNTERS.queue_full, 1);
        if !FULL_REPORTED.swap(true, Ordering::Relaxed) {
            crate::warn::warn(
                "telemetry queue is full: new events are dropped and counted until it drains",
            );
        }
        return;
    }
    // The receiver lives in the same static, so the channel is never disconnected.
    let _ = q.tx.send(capture);
}

/// The pipeline's counters since the process started.
///
/// ```
/// let s = telemetry_core::pipeline::stats();
/// assert!(s.captured >= s.sent + s.failed + s.dropped);
/// ```
pub fn stats() -> Stats {
    counters::snapshot(QUEUE.get().map_or(0, |q| q.rx.len()))
}

/// Drops every event still in the channel, counting each into `counter`.
fn drain_into(counter: &std::sync::atomic::AtomicU64) -> usize {
    let mut n = 0;
    if let Some(q) = QUEUE.get() {
        while q.rx.try_recv().is_ok() {
            n += 1;
        }
    }
    // Taken off the queue, so `received` too: `captured` counts queued events by the channel's
    // length, and without this they would vanish from it when dropped here.
    Counters::add(&COUNTERS.received, n);
    Counters::add(counter, n);
    n
}
