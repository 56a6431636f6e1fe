//! The door and the epoch: which events may still leave the process.
//!
//! One atomic word holds whether the pipeline takes new events (bit 0) and the current epoch
//! (the bits above). Every capture is tagged with the epoch it was accepted in; withdrawing
//! consent (or `forget()`) starts a new epoch, and an event, a batch or a lifecycle ping of an
//! older epoch is never sent: the worker checks the epoch under [`GATE`] before every delivery
//! attempt, and the withdrawal changes it under the same lock. So once a withdrawal returns, no
//! attempt can begin for anything captured before it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// `epoch << 1 | open`.
static WORD: AtomicU64 = AtomicU64::new(0);

/// Delivery attempts in progress; held while the epoch is checked or changed.
static GATE: Mutex<usize> = Mutex::new(0);
/// Notified when an attempt ends.
static ENDED: Condvar = Condvar::new();

thread_local! {
    /// The epoch of the batch this thread (a worker) is delivering, for a sink's retries.
    static DELIVERING: Cell<Option<u64>> = const { Cell::new(None) };
}

fn lock() -> MutexGuard<'static, usize> {
    GATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The epoch a capture is accepted in, or `None` when the door is closed.
#[inline(always)]
pub(crate) fn admit() -> Option<u64> {
    let word = WORD.load(Ordering::Relaxed);
    (word & 1 == 1).then_some(word >> 1)
}

/// The current epoch, open or not.
pub(crate) fn epoch() -> u64 {
    WORD.load(Ordering::Acquire) >> 1
}

/// Opens or closes the door without changing the epoch (closing for a shutdown keeps what
/// is queued deliverable).
pub(crate) fn set_open(open: bool) {
    let _gate = lock();
    if open {
        WORD.fetch_or(1, Ordering::SeqCst);
    } else {
        WORD.fetch_and(!1, Ordering::SeqCst);
    }
}

/// Starts a new epoch (and closes the door when `close`), so nothing accepted before can be
/// sent any more. Returns the gate's guard: the caller settles the accounts before any
/// worker can book another delivery.
pub(crate) fn new_epoch(close: bool) -> MutexGuard<'static, usize> {
    let gate = lock();
    let word = WORD.load(Ordering::SeqCst);
    let open = if close { 0 } else { word & 1 };
    WORD.store((((word >> 1) + 1) << 1) | open, Ordering::SeqCst);
    gate
}

/// Runs `f` under the gate if `epoch` is still current (for accounting that must not race a
/// new epoch); `None` if it is not.
pub(crate) fn if_current<R>(epoch: u64, f: impl FnOnce() -> R) -> Option<R> {
    let _gate = lock();
    (WORD.load(Ordering::SeqCst) >> 1 == epoch).then(f)
}

/// Waits until no delivery attempt is in progress, at most `limit`. Returns whether none is.
pub(crate) fn wait_idle(limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let mut gate = lock();
    while *gate > 0 {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        gate = ENDED
            .wait_timeout(gate, deadline - now)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    true
}

/// A delivery attempt in progress; ends when dropped.
pub(crate) struct Attempt(());

impl Drop for Attempt {
    fn drop(&mut self) {
        DELIVERING.with(|d| d.set(None));
        let mut gate = lock();
        *gate -= 1;
        ENDED.notify_all();
    }
}

/// Begins a delivery attempt for events of `epoch`, if it is still current.
pub(crate) fn begin(epoch: u64) -> Option<Attempt> {
    let mut gate = lock();
    if WORD.load(Ordering::SeqCst) >> 1 != epoch {
        return None;
    }
    *gate += 1;
    DELIVERING.with(|d| d.set(Some(epoch)));
    Some(Attempt(()))
}

/// The epoch this thread is delivering for, if it is delivering: for a helper thread that
/// sends part of the same delivery (see [`delivering_for`]).
#[cfg(feature = "posthog")]
pub(crate) fn delivering() -> Option<u64> {
    DELIVERING.with(Cell::get)
}

/// Runs `f` on this thread as part of a delivery for `epoch` (what [`delivering`] returned on
/// the thread that began it), so that [`may_send`] here answers for that delivery too.
#[cfg(feature = "posthog")]
pub(crate) fn delivering_for<R>(epoch: Option<u64>, f: impl FnOnce() -> R) -> R {
    let before = DELIVERING.with(|d| d.replace(epoch));
    let out = f();
    DELIVERING.with(|d| d.set(before));
    out
}

/// Whether the batch this thread is delivering may still be sent: a sink calls this before
/// each request. True outside a delivery (a sink used on its own).
#[cfg(feature = "posthog")]
pub(crate) fn may_send() -> bool {
    match DELIVERING.with(Cell::get) {
        Some(epoch) => {
            let _gate = lock();
            WORD.load(Ordering::SeqCst) >> 1 == epoch
        }
        None => true,
    }
}
