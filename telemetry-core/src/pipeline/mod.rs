//! The bounded queue between instrumented code and the sinks, and its worker thread.
//!
//! Callers pay for a push onto their thread's own buffer (`submit`, see `local.rs`), which
//! moves onto the shared queue `local::HANDOFF` events at a time; a dedicated `std::thread`
//! renders, hashes and delivers in batches. The queue is bounded ([`PipelineConfig::queue_capacity`]): when it is
//! full, new events are dropped and counted, never blocking the caller. (Up to
//! `HANDOFF - 1` events per thread wait in its buffer on top of the bound, until the worker's
//! next sweep at most `flush_interval` later.) Shutdown is bounded
//! ([`PipelineConfig::shutdown_timeout`]): what cannot be delivered in time is counted as
//! dropped and the process is free to exit, even when PostHog hangs.
//!
//! Consent is enforced here too (`consent_gate.rs`): every capture carries the epoch it was accepted
//! in, and `withdraw()` (an opt-out) or `discard_pending()` (`forget()`) starts a new one, so
//! nothing captured before can be sent afterwards; the worker checks before every delivery.
//! A panic in a sink is caught and counted ([`Stats::sink_panics`]); a worker that dies
//! anyway switches capture off.

mod counters;
mod destination;
mod local;
mod outage;
mod worker;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

pub use counters::Stats;
pub(crate) use destination::Destination;
pub(crate) use worker::{Lifecycle, WorkerHandle, WorkerSetup};

use crate::capture::Capture;
use crate::consent_gate as gate;
use counters::{COUNTERS, Counters};

/// How long [`withdraw`] waits for a delivery attempt already in progress (see there).
pub(crate) const IN_FLIGHT_WAIT: Duration = Duration::from_millis(50);

/// Tuning of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineConfig {
    /// Events that may wait for delivery; beyond this new events are dropped and counted.
    /// Default 50 000: measured peak RSS with a full queue is about 190 B per event with up to
    /// four properties and 400 B with eight, so 9-19 MiB (`cargo bench -p telemetry-tests
    /// --bench memory`). Each thread may hold up to 31 more in its own buffer.
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

/// The process-wide queue of thread buffers. Unbounded underneath, so memory follows what is
/// actually queued; the bound is checked on hand-off.
struct Queue {
    tx: Sender<(u64, Vec<Capture>)>,
    rx: Receiver<(u64, Vec<Capture>)>,
    /// Wakes the worker once a delivery's worth of events is queued. The worker never blocks
    /// on `rx` itself: waking a parked thread is a system call, and paying it on every
    /// hand-off doubled the caller's cost. Below a full batch the periodic sweep picks events up.
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
/// Events in the channel (not the number of buffers in it).
static QUEUED: AtomicUsize = AtomicUsize::new(0);
/// The worker's delivery size: a hand-off that fills one more wakes the worker.
static WAKE_EVERY: AtomicUsize = AtomicUsize::new(500);
static CAPACITY: AtomicUsize = AtomicUsize::new(50_000);
static FULL_REPORTED: AtomicBool = AtomicBool::new(false);

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        Queue {
            tx,
            rx,
            wake_tx,
            wake_rx,
        }
    })
}

/// Opens or closes the door (and the hot-path switch's pipeline bit). Closing keeps what is
/// queued deliverable (a shutdown flushes it); [`withdraw`] is what discards. The door stays
/// closed while no worker runs, so a dead worker's queue cannot fill.
pub(crate) fn set_accepting(on: bool) {
    let on = on && worker::any_alive();
    crate::capture::set_submit_hook(submit);
    gate::set_open(on);
    crate::switch::SWITCH.set_pipeline(on);
}

pub(crate) fn set_capacity(capacity: usize) {
    CAPACITY.store(capacity.max(1), Ordering::Relaxed);
}

/// Consent withdrawn: stops every event captured so far from ever leaving the process.
///
/// Blocks until that is guaranteed, which takes microseconds unless a delivery attempt is in
/// progress (then at most [`IN_FLIGHT_WAIT`], 50 ms). When it returns:
/// - the door is closed: instrumented calls capture nothing (one relaxed load, as when off);
/// - every event queued, in any thread's buffer, or held by the worker is discarded and
///   counted in [`Stats::dropped`]; a capture that raced the call is either among them or was
///   refused, so none is sent after a later opt-in;
/// - no delivery attempt begins for anything captured before the call, including retries and
///   the remaining batches of a flush or shutdown in progress, and lifecycle pings stop;
/// - an attempt that had already begun cannot be cancelled (posthog-rs's blocking client has
///   no cancel): this waits up to 50 ms for it so its request is on the wire before returning,
///   and its outcome is ignored (its events are counted as dropped).
///
/// The worker keeps running (idle); stop it or reopen the door with [`set_accepting`].
/// Returns how many events were discarded.
pub(crate) fn withdraw() -> u64 {
    crate::switch::SWITCH.set_pipeline(false);
    let discarded = invalidate(true, &COUNTERS.discarded, &mut |_| {});
    gate::wait_idle(IN_FLIGHT_WAIT);
    discarded
}

/// A shutdown gave up, or the worker died: closes the door for good and counts what is left
/// as abandoned. A worker left behind can deliver nothing more. Events still queued are
/// handed to `keep` (for the outage spool) before they are counted.
fn abandon(keep: &mut dyn FnMut(Vec<Capture>)) -> u64 {
    crate::switch::SWITCH.set_pipeline(false);
    invalidate(true, &COUNTERS.abandoned, keep)
}

/// Starts a new epoch and moves every event of the old ones into `counter`.
fn invalidate(close: bool, counter: &AtomicU64, keep: &mut dyn FnMut(Vec<Capture>)) -> u64 {
    let gate = gate::new_epoch(close);
    // Held by the worker: booked only under the gate, so this is all of the old epoch's.
    let held = COUNTERS.holding.swap(0, Ordering::SeqCst);
    counter.fetch_add(held, Ordering::Relaxed);
    drop(gate);
    held + drain_into(counter, keep) as u64
}

/// Queues a capture. Never blocks; a full queue drops the event and counts it.
#[inline]
pub(crate) fn submit(capture: Capture) {
    local::push(capture);
}

/// Counts `n` captures of an old epoch, found after the withdrawal, as discarded.
fn discard(n: usize) {
    Counters::add(&COUNTERS.received, n);
    Counters::add(&COUNTERS.discarded, n);
}

/// Moves a thread's buffered captures onto the queue; what does not fit the bound is dropped
/// (the newest first) and counted.
fn handoff(epoch: u64, mut batch: Vec<Capture>) {
    let n = batch.len();
    if n == 0 {
        return;
    }
    let before = QUEUED.fetch_add(n, Ordering::Relaxed);
    let room = CAPACITY.load(Ordering::Relaxed).saturating_sub(before);
    if room < n {
        let over = n - room;
        QUEUED.fetch_sub(over, Ordering::Relaxed);
        batch.truncate(room);
        Counters::add(&COUNTERS.queue_full, over);
        if !FULL_REPORTED.swap(true, Ordering::Relaxed) {
            crate::warn::warn(
                "telemetry queue is full: new events are dropped and counted until it drains",
            );
        }
        if batch.is_empty() {
            return;
        }
    }
    let n = batch.len();
    let q = queue();
    // The receiver lives in the same static, so the channel is never disconnected.
    let _ = q.tx.send((epoch, batch));
    let every = WAKE_EVERY.load(Ordering::Relaxed).max(1);
    if before / every != (before + n) / every {
        // Full already means a wake is pending.
        let _ = q.wake_tx.try_send(());
    }
}

/// The pipeline's counters since the process started.
///
/// ```
/// let s = telemetry_core::stats();
/// assert!(s.captured >= s.sent + s.failed + s.dropped);
/// ```
pub fn stats() -> Stats {
    counters::snapshot(QUEUED.load(Ordering::Relaxed) + local::buffered())
}

/// Drops every event still in the channel or in a thread's buffer, counting each into
/// `counter`.
fn drain_into(counter: &AtomicU64, keep: &mut dyn FnMut(Vec<Capture>)) -> usize {
    let mut n = 0;
    let drain_queue = |n: &mut usize, keep: &mut dyn FnMut(Vec<Capture>)| {
        if let Some(q) = QUEUE.get() {
            while let Ok((_, batch)) = q.rx.try_recv() {
                QUEUED.fetch_sub(batch.len(), Ordering::Relaxed);
                *n += batch.len();
                keep(batch);
            }
        }
    };
    drain_queue(&mut n, keep);
    local::sweep(|_, batch| {
        n += batch.len();
        keep(batch);
    });
    // With the door closed, a buffer a thread took before the sweep lands on the queue
    // within a few instructions: wait for it rather than leave it queued.
    if gate::admit().is_none() {
        local::wait_in_transit(Duration::from_millis(200));
    }
    drain_queue(&mut n, keep);
    // Taken off the queue, so `received` too: `captured` counts queued events by the channel's
    // length, and without this they would vanish from it when dropped here.
    Counters::add(&COUNTERS.received, n);
    Counters::add(counter, n);
    n
}
