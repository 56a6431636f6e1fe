//! Rendering batches and handing them to the sink, a round at a time.
//!
//! A round is up to [`Sink::lanes`](crate::sink::Sink::lanes) batches. A sink with more than one
//! lane (PostHog: two) gets them together, and the worker renders them on as many threads: on a
//! backlog both cores work (render, serialise, wait for the server), each batch still with its
//! own outcome, so the accounting stays per batch. Measured with `cargo bench -p
//! telemetry-tests --bench e2e`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Worker;
use super::spool::lock;
#[cfg(feature = "posthog")]
use crate::audit;
use crate::capture::Capture;
use crate::consent_gate as gate;
use crate::fingerprint::Identity;
#[cfg(feature = "posthog")]
use crate::pipeline::Destination;
use crate::pipeline::counters::{COUNTERS, Counters};
use crate::pipeline::{FULL_REPORTED, QUEUED};
use crate::sink::SinkError;
use crate::wire::{self, InstallContext, WireEvent};

/// At most this many batches go to a sink at once, whatever it offers: telemetry stays a
/// guest on the machine (two threads, both at the worker's lowered priority).
pub(super) const MAX_LANES: usize = 2;

/// Below this many events a batch is rendered on the worker's own thread: a thread is not
/// worth starting for a few events.
const PARALLEL_RENDER_MIN: usize = 64;

impl Worker {
    /// How many batches one round holds: the sink's lanes, at most [`MAX_LANES`], at least one.
    pub(super) fn lanes(&self) -> usize {
        self.setup.sink.lanes().clamp(1, MAX_LANES)
    }

    /// How many events one round takes from the queue.
    pub(super) fn round_size(&self) -> usize {
        self.setup.config.batch_size.max(1) * self.lanes()
    }

    /// Renders captures on the worker's thread: lifecycle pings, and a PostHog batch again for
    /// the spool or the audit trail.
    pub(super) fn render<'a>(&self, captures: impl Iterator<Item = &'a Capture>) -> Vec<WireEvent> {
        let identity = self
            .setup
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner());
        captures
            .map(|c| wire::render(c, &identity, &self.setup.context))
            .collect()
    }

    /// Sends the held batch in rounds of up to [`Worker::lanes`] deliveries of at most
    /// `batch_size` events, each round only while its epoch is current: a withdrawal between
    /// two rounds stops the rest.
    pub(super) fn flush_batch(&mut self) {
        let size = self.setup.config.batch_size.max(1);
        let lanes = self.lanes();
        let epoch = self.batch_epoch;
        loop {
            let decision = self.remote_decision();
            let mut held = lock(&self.shared.held);
            let mut parts = Vec::with_capacity(lanes);
            let mut taken = 0;
            for _ in 0..lanes {
                let n = size.min(held.batch.len());
                if n == 0 {
                    break;
                }
                taken += n;
                let chunk = held.batch.drain(..n);
                let mut kept: Vec<Capture> = match &decision {
                    None => chunk.collect(),
                    Some(d) => chunk.filter(|c| d.allows(c.def.name)).collect(),
                };
                // Fixed now, so a batch rendered again (for the spool) keeps its ids.
                for capture in &mut kept {
                    capture
                        .uuid
                        .get_or_insert_with(|| wire::event_uuid(capture.at));
                }
                if !kept.is_empty() {
                    parts.push(Arc::new(kept));
                }
            }
            if taken == 0 {
                break;
            }
            // Moved from the batch to the wire under one lock: a shutdown that gives up finds
            // every capture in one place or the other.
            if self.outage.is_some() {
                held.in_flight = parts.clone();
            }
            drop(held);
            let kept: usize = parts.iter().map(|p| p.len()).sum();
            self.drop_remotely(epoch, taken - kept);
            if parts.is_empty() {
                continue;
            }
            let delivered = self.deliver_parts(epoch, &parts);
            let mut held = lock(&self.shared.held);
            held.in_flight.clear();
            if !delivered {
                // The epoch ended. A withdrawal counted the rest as discarded: drop it. A
                // shutdown that gave up takes it for the spool (unless it already did).
                if !self.is_abandoned() {
                    held.batch.clear();
                }
                break;
            }
        }
        if FULL_REPORTED.load(Ordering::Relaxed) && QUEUED.load(Ordering::Relaxed) == 0 {
            FULL_REPORTED.store(false, Ordering::Relaxed);
        }
    }

    /// One round: renders and delivers each part as one batch, then books each outcome.
    /// Returns `false` when the round's epoch ended (nothing was sent).
    fn deliver_parts(&mut self, epoch: u64, parts: &[Arc<Vec<Capture>>]) -> bool {
        #[cfg(feature = "posthog")]
        if let Destination::PostHog(_) = self.setup.sink {
            let Some(results) = self.deliver_captures(epoch, parts) else {
                return false;
            };
            for (captures, result) in parts.iter().zip(results) {
                // Rendered again only for the spool or the audit trail, with the same ids.
                let wanted = match &result {
                    Ok(()) => audit::enabled(),
                    Err(e) => audit::enabled() || (self.outage.is_some() && !e.is_permanent()),
                };
                let events = if wanted {
                    self.render(captures.iter())
                } else {
                    Vec::new()
                };
                self.after_delivery(epoch, &events, &result);
                self.settle(epoch, captures.len(), result);
            }
            return true;
        }
        let batches: Vec<Vec<WireEvent>> = {
            let identity = self
                .setup
                .identity
                .read()
                .unwrap_or_else(|e| e.into_inner());
            render_parts(&identity, &self.setup.context, parts)
        };
        let slices: Vec<&[WireEvent]> = batches.iter().map(Vec::as_slice).collect();
        let Some(results) = self.deliver_round(epoch, &slices) else {
            return false;
        };
        for (events, result) in batches.iter().zip(results) {
            self.after_delivery(epoch, events, &result);
            self.settle(epoch, events.len(), result);
        }
        true
    }

    /// PostHog's round: the captures rendered and sent on its lanes, if `epoch` is current.
    #[cfg(feature = "posthog")]
    fn deliver_captures(
        &mut self,
        epoch: u64,
        parts: &[Arc<Vec<Capture>>],
    ) -> Option<Vec<Result<(), SinkError>>> {
        let identity = self
            .setup
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let context = &self.setup.context;
        let Destination::PostHog(sink) = &mut self.setup.sink else {
            return None;
        };
        let batches: Vec<&[Capture]> = parts.iter().map(|p| p.as_slice()).collect();
        guarded(epoch, batches.len(), || {
            sink.send_captures(&batches, &identity, context)
        })
    }

    /// One delivery of one batch through the sink, if `epoch` is still current.
    pub(super) fn deliver(
        &mut self,
        epoch: u64,
        events: &[WireEvent],
    ) -> Option<Result<(), SinkError>> {
        self.deliver_round(epoch, &[events])?.pop()
    }

    /// One round of deliveries through the sink, if `epoch` is still current: one outcome per
    /// batch, in order.
    pub(super) fn deliver_round(
        &mut self,
        epoch: u64,
        batches: &[&[WireEvent]],
    ) -> Option<Vec<Result<(), SinkError>>> {
        let sink = self.setup.sink.sink();
        guarded(epoch, batches.len(), || sink.send_all(batches))
    }

    /// Books a delivery attempt of `n` held events, unless their epoch ended meanwhile (a
    /// withdrawal or a shutdown that gave up counted them already).
    pub(super) fn settle(&mut self, epoch: u64, n: usize, result: Result<(), SinkError>) {
        let ok = result.is_ok();
        let booked = gate::if_current(epoch, || {
            Counters::sub(&COUNTERS.holding, n);
            Counters::add(if ok { &COUNTERS.sent } else { &COUNTERS.failed }, n);
        });
        if booked.is_none() {
            return;
        }
        match result {
            Ok(()) => {
                if let Some(failed) = self.failing_since.take() {
                    crate::warn::info(&format!(
                        "telemetry delivery to {} recovered; {failed} event(s) failed meanwhile",
                        self.setup.sink.kind()
                    ));
                }
            }
            Err(e) => match self.failing_since.as_mut() {
                Some(failed) => *failed += n as u64,
                None => {
                    self.failing_since = Some(n as u64);
                    crate::warn::warn(&format!(
                        "telemetry delivery failed ({e}); failures are counted, not logged \
                         again, until a delivery succeeds"
                    ));
                }
            },
        }
    }
}

/// Runs one round of `n` deliveries inside a delivery attempt of `epoch` (none if it ended).
/// A panic in the sink is caught and counted, and the round counts as failed; a round that
/// does not return one outcome per batch counts as failed too.
fn guarded(
    epoch: u64,
    n: usize,
    send: impl FnOnce() -> Vec<Result<(), SinkError>>,
) -> Option<Vec<Result<(), SinkError>>> {
    let attempt = gate::begin(epoch)?;
    let result = catch_unwind(AssertUnwindSafe(send));
    drop(attempt);
    let results = result.unwrap_or_else(|payload| {
        Counters::add(&COUNTERS.sink_panics, 1);
        // A payload whose own drop panics must not take the worker down either.
        if let Err(again) = catch_unwind(AssertUnwindSafe(|| drop(payload))) {
            std::mem::forget(again);
        }
        vec![Err(SinkError::new("the sink panicked")); n]
    });
    if results.len() == n {
        Some(results)
    } else {
        Some(vec![
            Err(SinkError::new(
                "the sink's send_all returned a wrong number of outcomes"
            ));
            n
        ])
    }
}

/// Renders each part into its batch; parts past the first on threads of their own when they
/// are worth one. A thread that cannot be started leaves its part to the worker's thread.
fn render_parts(
    identity: &Identity,
    context: &InstallContext,
    parts: &[Arc<Vec<Capture>>],
) -> Vec<Vec<WireEvent>> {
    let render = |part: &[Capture]| -> Vec<WireEvent> {
        part.iter()
            .map(|c| wire::render(c, identity, context))
            .collect()
    };
    let Some((first, rest)) = parts.split_first() else {
        return Vec::new();
    };
    if rest.iter().all(|part| part.len() < PARALLEL_RENDER_MIN) {
        return parts.iter().map(|part| render(part)).collect();
    }
    std::thread::scope(|scope| {
        let helpers: Vec<_> = rest
            .iter()
            .map(|part| {
                std::thread::Builder::new()
                    .name("telemetry-render".into())
                    .spawn_scoped(scope, move || render(part))
                    .map_err(|_| part)
            })
            .collect();
        let mut batches = vec![render(first)];
        for helper in helpers {
            batches.push(match helper {
                // A panic in rendering is a bug: it ends the worker as it would on its thread.
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(part) => render(part),
            });
        }
        batches
    })
}
