//! The worker thread: batches, renders and delivers; runs lifecycle pings; stops in bounded time.

mod delivery;
mod remote;
mod spool;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, select};

use super::Destination;
use super::counters::{COUNTERS, Counters};
use super::outage::{Leftovers, Outage};
use super::{PipelineConfig, QUEUED, WAKE_EVERY, local, queue};
use crate::audit::{self, Outcome};
use crate::capture::Capture;
use crate::consent_gate as gate;
use crate::fingerprint::Identity;
#[cfg(feature = "posthog")]
use crate::remote::Attached;
use crate::spool::Spool;
use crate::wire::InstallContext;

/// Lifecycle pings, run by the worker at start and then every [`Lifecycle::interval`].
pub(crate) trait Lifecycle: Send {
    /// Sends what is due through `send`, which returns whether a sink accepted the event.
    fn run(&mut self, send: &mut dyn FnMut(Capture) -> bool);
    /// How often to check again.
    fn interval(&self) -> Duration;
}

/// Everything a worker needs.
pub(crate) struct WorkerSetup {
    pub config: PipelineConfig,
    pub sink: Destination,
    pub identity: Arc<RwLock<Identity>>,
    /// What every event carries about the install, computed once.
    pub context: Arc<InstallContext>,
    pub lifecycle: Option<Box<dyn Lifecycle>>,
    /// The outage spool (PostHog only): failed batches wait there for a later attempt.
    pub spool: Option<Arc<Spool>>,
    /// The remote kill switch, when a flag is configured (see `remote`).
    #[cfg(feature = "posthog")]
    pub remote: Option<Attached>,
}

enum Control {
    Flush(Sender<()>),
    DiscardAndStop,
    Shutdown(Sender<()>),
}

/// Worker threads running (one, except while a stopped one is still exiting).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// Whether a worker thread is running.
pub(super) fn any_alive() -> bool {
    WORKERS.load(Ordering::SeqCst) > 0
}

/// State shared by a worker and its handle.
#[derive(Default)]
struct Shared {
    /// Set when a shutdown gave up on this worker: it exits at the next chance (the gate
    /// already keeps it from sending or counting anything).
    abandoned: AtomicBool,
    /// Set by the worker's supervisor once the thread has settled its accounts and ends.
    exited: AtomicBool,
    /// What the worker holds: spooled if a shutdown gives up (with a spool; PostHog dedups
    /// what did arrive).
    held: Mutex<Held>,
}

/// The captures a worker took off the queue and has not settled, in the one place its handle
/// can reach them: a round moves from `batch` to `in_flight` under one lock, so a shutdown
/// that gives up finds every capture in one or the other.
#[derive(Default)]
struct Held {
    /// Taken off the queue, waiting for a round (all of one epoch, `Worker::batch_epoch`).
    batch: VecDeque<Capture>,
    /// The round on the wire, one part per batch (published only with a spool).
    in_flight: Vec<Arc<Vec<Capture>>>,
}

/// The handle that controls one worker thread.
pub(crate) struct WorkerHandle {
    control: Sender<Control>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    shutdown_timeout: Duration,
    /// Where events still queued go when a shutdown gives up (the outage spool).
    leftovers: Option<Leftovers>,
}

/// A flush on its way: see [`WorkerHandle::request_flush`].
pub(crate) struct FlushWait {
    done: Receiver<()>,
    shared: Arc<Shared>,
}

impl FlushWait {
    /// Waits until the worker delivered what was queued before the request (one attempt
    /// each), or `timeout`. Returns whether it finished in time.
    pub(crate) fn wait(self, timeout: Duration) -> bool {
        match self.done.recv_timeout(timeout) {
            Ok(()) => true,
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                // The worker died on this flush: wait (briefly) until its supervisor has
                // switched capture off and settled the accounts.
                let deadline = Instant::now() + Duration::from_secs(1);
                while !self.shared.exited.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                false
            }
        }
    }
}

impl WorkerHandle {
    /// Starts a worker thread. Never panics: if the thread cannot be spawned, returns `None`.
    pub(crate) fn spawn(setup: WorkerSetup) -> Option<WorkerHandle> {
        let (control, control_rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared::default());
        let shutdown_timeout = setup.config.shutdown_timeout;
        WAKE_EVERY.store(setup.config.batch_size.max(1), Ordering::Relaxed);
        let mut setup = setup;
        let leftovers = Leftovers::for_setup(&setup);
        let outage = setup.spool.take().map(Outage::new);
        let remote_wake = remote::wake(&setup);
        let supervised = shared.clone();
        let worker = Worker {
            outage,
            remote_wake,
            batch_epoch: gate::epoch(),
            ping_epoch: gate::epoch(),
            lifecycle: setup.lifecycle.take(),
            lifecycle_due: true,
            next_lifecycle: Instant::now(),
            setup,
            control: control_rx,
            shared: shared.clone(),
            failing_since: None,
        };
        WORKERS.fetch_add(1, Ordering::SeqCst);
        let thread = std::thread::Builder::new()
            .name("telemetry-worker".into())
            .spawn(move || {
                let _supervisor = Supervisor(supervised);
                worker.run();
            })
            .map_err(|e| {
                WORKERS.fetch_sub(1, Ordering::SeqCst);
                crate::warn::warn(&format!("telemetry worker did not start: {e}"));
            })
            .ok()?;
        Some(WorkerHandle {
            control,
            shared,
            thread: Some(thread),
            shutdown_timeout,
            leftovers,
        })
    }

    /// Asks the worker to deliver everything queued before the call; the caller waits on the
    /// returned [`FlushWait`] without holding anything (an opt-out meanwhile is not delayed).
    /// `None` when the worker is gone.
    pub(crate) fn request_flush(&self) -> Option<FlushWait> {
        let (ack, done) = crossbeam_channel::bounded(1);
        self.control.send(Control::Flush(ack)).ok()?;
        Some(FlushWait {
            done,
            shared: self.shared.clone(),
        })
    }

    /// Consent withdrawn: [`withdraw`](super::withdraw)s (see there for exactly what is
    /// guaranteed when this returns), then lets the worker exit without waiting for it.
    pub(crate) fn discard_and_stop(self) {
        super::withdraw();
        let _ = self.control.send(Control::DiscardAndStop);
        // The thread is detached: it exits as soon as it reads the message.
    }

    /// Delivers what it can within the shutdown bound, then stops. What is left is counted as
    /// dropped (and spooled: a quarter of the bound is kept for that), and a worker stuck on a
    /// hung server is left behind (it exits with the process).
    pub(crate) fn shutdown(mut self) {
        let (ack, done) = crossbeam_channel::bounded(1);
        let wait = self
            .shutdown_timeout
            .mul_f64(self.leftovers.as_ref().map_or(1.0, |_| 0.75));
        let finished =
            self.control.send(Control::Shutdown(ack)).is_ok() && done.recv_timeout(wait).is_ok();
        if finished {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
            return;
        }
        self.shared.abandoned.store(true, Ordering::SeqCst);
        let mut still_queued = Vec::new();
        let left = super::abandon(&mut |captures| still_queued.extend(captures));
        // After the epoch ended: the worker can add nothing to what it holds any more.
        let held = std::mem::take(&mut *spool::lock(&self.shared.held));
        if let Some(leftovers) = &self.leftovers {
            let on_wire = held.in_flight.iter().flat_map(|part| part.iter());
            let kept: Vec<&Capture> = on_wire.chain(&held.batch).chain(&still_queued).collect();
            leftovers.keep_all(&kept);
        }
        if left > 0 {
            crate::warn::warn(&format!(
                "telemetry shutdown timed out after {:?}: {left} undelivered event(s) dropped",
                self.shutdown_timeout
            ));
        }
    }
}

struct Worker {
    setup: WorkerSetup,
    control: Receiver<Control>,
    shared: Arc<Shared>,
    /// The epoch of the events in the held batch (see `gate.rs`).
    batch_epoch: u64,
    /// The epoch lifecycle pings are sent in: the one the worker started in, or the last one
    /// it saw the door open in. A withdrawal ends it, so pings stop until consent returns.
    ping_epoch: u64,
    /// Events failed since the current failure episode began (reported once per episode).
    failing_since: Option<u64>,
    /// Lifecycle pings, if this worker sends them.
    lifecycle: Option<Box<dyn Lifecycle>>,
    /// A lifecycle check was asked for (or the worker just started).
    lifecycle_due: bool,
    /// When the periodic lifecycle check comes round.
    next_lifecycle: Instant,
    /// The outage spool, when the sink is PostHog.
    outage: Option<Outage>,
    /// Signalled after each evaluation of the remote flag (never, without one).
    remote_wake: Receiver<()>,
}

impl Worker {
    fn run(mut self) {
        lower_priority();
        let rx = queue().rx.clone();
        let wake = queue().wake_rx.clone();
        let mut flush_at: Option<Instant> = None;
        // Thread buffers are swept this often, so a quiet thread's events wait at most this.
        let mut sweep_at = Instant::now() + self.setup.config.flush_interval;
        // What an earlier run (or process) left in the spool goes first.
        self.resend_spool();
        loop {
            // Controls first: after consent is withdrawn not one more event may go out.
            while let Ok(control) = self.control.try_recv() {
                if self.handle(control, &rx, &mut flush_at) {
                    return;
                }
            }
            if self.is_abandoned() {
                return;
            }
            if let Some(epoch) = gate::admit() {
                self.ping_epoch = epoch;
            }
            if let Some(until) = self.remote_hold() {
                // No answer from the remote flag yet: nothing is taken or sent meanwhile (the
                // events wait in the bounded queue), until it answers or the hold runs out.
                select! {
                    recv(self.control) -> msg => if self.stops_on(msg, &rx, &mut flush_at) {
                        return;
                    },
                    recv(self.remote_wake) -> _ => {}
                    recv(crossbeam_channel::at(until)) -> _ => {}
                }
                continue;
            }
            self.run_lifecycle_if_due();
            let mut wake_at = sweep_at;
            if let Some(f) = flush_at {
                wake_at = wake_at.min(f);
            }
            if self.lifecycle.is_some() && !self.remote_off() {
                wake_at = wake_at.min(self.next_lifecycle);
            }
            if let Some(at) = self.outage.as_ref().and_then(Outage::wake_at) {
                wake_at = wake_at.min(at);
            }
            select! {
                recv(self.control) -> msg => if self.stops_on(msg, &rx, &mut flush_at) {
                    return;
                },
                recv(wake) -> _ => {
                    // A delivery's worth is queued: send one round (up to a batch per lane),
                    // keep the rest for the next wake or sweep.
                    self.resend_spool();
                    self.take_queued(&rx);
                    if self.batch_len() >= self.setup.config.batch_size {
                        self.flush_batch();
                        flush_at = None;
                    } else if flush_at.is_none() && self.batch_len() > 0 {
                        flush_at = Some(Instant::now() + self.setup.config.flush_interval);
                    }
                }
                recv(self.remote_wake) -> _ => {
                    // The flag was evaluated again: pings held back while it was off may be due.
                    self.lifecycle_due = true;
                }
                recv(crossbeam_channel::at(wake_at)) -> _ => {
                    self.resend_spool();
                    let now = Instant::now();
                    let mut due = flush_at.is_some_and(|f| now >= f);
                    if now >= sweep_at {
                        // These waited up to a flush interval already: send them now.
                        local::sweep(|epoch, captures| self.take(epoch, captures));
                        self.take_queued(&rx);
                        due |= self.batch_len() > 0;
                        sweep_at = now + self.setup.config.flush_interval;
                    }
                    if due {
                        self.flush_batch();
                        flush_at = None;
                    }
                }
            }
        }
    }

    /// Sends due lifecycle pings: at start (even when a short-lived process is already
    /// shutting down), when asked, and when the periodic check comes round.
    fn run_lifecycle_if_due(&mut self) {
        if !self.lifecycle_due && Instant::now() < self.next_lifecycle || self.remote_off() {
            return;
        }
        self.lifecycle_due = false;
        let Some(mut lifecycle) = self.lifecycle.take() else {
            return;
        };
        let epoch = self.ping_epoch;
        lifecycle.run(&mut |capture| self.deliver_now(capture, epoch));
        self.next_lifecycle = Instant::now() + lifecycle.interval();
        self.lifecycle = Some(lifecycle);
    }

    /// Handles what `select!` received on the control channel; returns whether the worker
    /// must exit (it also must when the handle is gone and the channel with it).
    fn stops_on(
        &mut self,
        msg: Result<Control, crossbeam_channel::RecvError>,
        rx: &Receiver<(u64, Vec<Capture>)>,
        flush_at: &mut Option<Instant>,
    ) -> bool {
        match msg {
            Ok(control) => self.handle(control, rx, flush_at),
            Err(_) => true,
        }
    }

    /// Handles one control message; returns whether the worker must exit.
    fn handle(
        &mut self,
        control: Control,
        rx: &Receiver<(u64, Vec<Capture>)>,
        flush_at: &mut Option<Instant>,
    ) -> bool {
        match control {
            Control::Flush(ack) => {
                self.wait_for_remote();
                self.run_lifecycle_if_due();
                self.drain_and_send(rx);
                *flush_at = None;
                let _ = ack.send(());
                false
            }
            Control::DiscardAndStop => {
                // Counted as discarded by the withdrawal that came first.
                spool::lock(&self.shared.held).batch.clear();
                true
            }
            Control::Shutdown(ack) => {
                self.wait_for_remote();
                // A short-lived process may never see a tick: an earlier run's spool goes first.
                self.resend_spool();
                self.run_lifecycle_if_due();
                self.drain_and_send(rx);
                let _ = ack.send(());
                true
            }
        }
    }

    fn is_abandoned(&self) -> bool {
        self.shared.abandoned.load(Ordering::SeqCst)
    }

    /// Takes a thread's buffer off the queue (or from a sweep) into the batch, if its epoch
    /// is current; otherwise it is discarded.
    fn take(&mut self, epoch: u64, captures: Vec<Capture>) {
        let n = captures.len();
        let booked = gate::if_current(epoch, || {
            Counters::add(&COUNTERS.received, n);
            Counters::add(&COUNTERS.holding, n);
        });
        if booked.is_none() {
            super::discard(n);
            return;
        }
        let mut held = spool::lock(&self.shared.held);
        if self.batch_epoch != epoch {
            // What the batch holds is of an older epoch: the withdrawal counted it already.
            held.batch.clear();
            self.batch_epoch = epoch;
        }
        held.batch.extend(captures);
    }

    /// How many captures wait in the held batch.
    fn batch_len(&self) -> usize {
        spool::lock(&self.shared.held).batch.len()
    }

    /// Takes queued events into the batch until it holds a round's worth (a batch per lane).
    /// If more are queued, wakes itself to come back for them after checking for control
    /// messages (one round at a time, so an opt-out or a shutdown is seen between two rounds),
    /// and so that events wait in the bounded queue, not in an unbounded batch.
    fn take_queued(&mut self, rx: &Receiver<(u64, Vec<Capture>)>) {
        while self.batch_len() < self.round_size() {
            let Ok((epoch, captures)) = rx.try_recv() else {
                break;
            };
            QUEUED.fetch_sub(captures.len(), Ordering::Relaxed);
            self.take(epoch, captures);
        }
        if !rx.is_empty() {
            let _ = queue().wake_tx.try_send(());
        }
    }

    /// Sends everything captured before now, in batches: thread buffers and the queue.
    fn drain_and_send(&mut self, rx: &Receiver<(u64, Vec<Capture>)>) {
        local::sweep(|epoch, captures| self.take(epoch, captures));
        loop {
            while self.batch_len() < self.round_size() {
                match rx.try_recv() {
                    Ok((epoch, captures)) => {
                        QUEUED.fetch_sub(captures.len(), Ordering::Relaxed);
                        self.take(epoch, captures);
                    }
                    Err(_) => break,
                }
            }
            if self.batch_len() == 0 {
                return;
            }
            self.flush_batch();
            if self.is_abandoned() {
                return;
            }
        }
    }

    /// Delivers one event at once (lifecycle pings), counting it like any other, if `epoch`
    /// is current. Returns whether a sink accepted it.
    fn deliver_now(&mut self, capture: Capture, epoch: u64) -> bool {
        let booked = gate::if_current(epoch, || {
            Counters::add(&COUNTERS.received, 1);
            Counters::add(&COUNTERS.holding, 1);
        });
        if booked.is_none() {
            return false;
        }
        if self
            .remote_decision()
            .is_some_and(|d| !d.allows(capture.def.name))
        {
            self.drop_remotely(epoch, 1);
            return false;
        }
        let events = self.render(std::iter::once(&capture));
        let Some(result) = self.deliver(epoch, &events) else {
            return false;
        };
        let ok = result.is_ok();
        // Not spooled: an unsent lifecycle ping is sent again by a later check.
        audit::record(
            if ok {
                Outcome::Delivered
            } else {
                Outcome::Dropped
            },
            &events,
        );
        self.settle(epoch, 1, result);
        ok
    }
}

/// Lives on the worker's stack: if the worker ends by a panic (one that escaped the sink's
/// `catch_unwind`, say from a lifecycle ping), the door closes so the queue cannot fill and
/// what it held is counted as dropped; `flush` and `shutdown` then return at once (the
/// worker's channels are gone).
struct Supervisor(Arc<Shared>);

impl Drop for Supervisor {
    fn drop(&mut self) {
        WORKERS.fetch_sub(1, Ordering::SeqCst);
        if std::thread::panicking() {
            let left = super::abandon(&mut |_| {});
            crate::warn::warn(&format!(
                "telemetry worker stopped by a panic: capture is off, {left} queued event(s) \
                 dropped"
            ));
        }
        self.0.exited.store(true, Ordering::SeqCst);
    }
}

/// Telemetry must never compete with the application for CPU: on Linux the worker thread runs
/// at nice 10, so a busy application's threads go first and the worker catches up when they
/// idle (if it cannot, the bounded queue drops and counts). Measured with 8 threads capturing
/// on 2 cores (`cargo bench -p telemetry-tests --bench enabled`).
#[cfg(target_os = "linux")]
fn lower_priority() {
    unsafe extern "C" {
        fn setpriority(which: i32, who: u32, prio: i32) -> i32;
    }
    const PRIO_PROCESS: i32 = 0;
    // On Linux the nice value is per thread, and `who = 0` is the calling thread.
    // SAFETY: a plain system call with integer arguments; failure only leaves the priority.
    let _ = unsafe { setpriority(PRIO_PROCESS, 0, 10) };
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
