//! The worker's side of the outage spool (see [`crate::spool`]): what to spool, when to
//! retry, and the counting.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::counters::{COUNTERS, Counters};
use crate::audit::{self, Outcome};
use crate::capture::Capture;
use crate::consent_gate as gate;
use crate::fingerprint::Identity;
use crate::sink::SinkError;
use crate::spool::{Claim, Spool};
use crate::wire::{self, InstallContext, WireEvent};

/// The first wait before re-sending the spool after a failed attempt; doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

pub(super) struct Outage {
    pub spool: Arc<Spool>,
    /// The spool may hold events (unknown at start: an earlier run may have left some).
    maybe_pending: bool,
    retry_at: Instant,
    backoff: Duration,
    warned_io: bool,
}

impl Outage {
    pub(super) fn new(spool: Arc<Spool>) -> Outage {
        Outage {
            spool,
            maybe_pending: true,
            retry_at: Instant::now(),
            backoff: FIRST_BACKOFF,
            warned_io: false,
        }
    }

    /// When the worker should wake to re-send the spool, if it holds anything.
    pub(super) fn wake_at(&self) -> Option<Instant> {
        (self.maybe_pending && gate::admit().is_some()).then_some(self.retry_at)
    }

    /// Whether a re-send is due now.
    pub(super) fn due(&self) -> bool {
        self.maybe_pending && Instant::now() >= self.retry_at
    }

    /// A delivery failed for now: keeps its events for later, unless consent was withdrawn
    /// meanwhile.
    pub(super) fn keep(&mut self, epoch: u64, events: &[WireEvent]) {
        let stored = gate::if_current(epoch, || self.spool.append(events));
        match stored {
            Some(Ok(appended)) => {
                // Counted in, then out: `spooled - spool_overflowed - spool_expired -
                // spool_rejected - recovered` is what this run left in the spool.
                Counters::add(&COUNTERS.spooled, events.len());
                Counters::add(&COUNTERS.spool_overflowed, appended.overflowed);
                audit::record(Outcome::Spooled, events);
                audit::dropped_unrendered(appended.overflowed as u64, "spool size bound");
                self.maybe_pending = true;
                self.wait_longer();
            }
            Some(Err(e)) => {
                self.io_failed(&e);
                audit::record(Outcome::Dropped, events);
            }
            None => audit::record(Outcome::Dropped, events),
        }
    }

    /// A fresh delivery succeeded: PostHog is back, so re-send the spool now.
    pub(super) fn delivery_succeeded(&mut self) {
        self.backoff = FIRST_BACKOFF;
        self.retry_at = Instant::now();
    }

    /// Takes the next spooled batch, counting what expired; `None` when there is none (or the
    /// spool cannot be read).
    pub(super) fn claim(&mut self, max: usize) -> Option<Claim> {
        loop {
            match self.spool.claim(max) {
                Ok(Some(claim)) => {
                    Counters::add(&COUNTERS.spool_expired, claim.expired);
                    audit::dropped_unrendered(claim.expired as u64, "spool age bound");
                    if claim.events.is_empty() {
                        claim.finish(true);
                        continue;
                    }
                    return Some(claim);
                }
                Ok(None) => {
                    self.maybe_pending = false;
                    return None;
                }
                Err(e) => {
                    self.io_failed(&e);
                    self.wait_longer();
                    return None;
                }
            }
        }
    }

    /// A spooled batch was re-sent: `Some(Ok)` delivered, `Some(Err)` failed (removed from
    /// the spool when the rejection is permanent, kept for a later try otherwise), `None` not
    /// attempted (consent withdrawn).
    pub(super) fn settle_claim(&mut self, claim: Claim, outcome: Option<Result<(), SinkError>>) {
        match outcome {
            Some(Ok(())) => {
                Counters::add(&COUNTERS.recovered, claim.events.len());
                audit::record(Outcome::Recovered, &claim.events);
                self.backoff = FIRST_BACKOFF;
                claim.finish(true);
            }
            Some(Err(e)) if e.is_permanent() => {
                // Sending it again cannot succeed: gone from the spool, counted out of it.
                Counters::add(&COUNTERS.spool_rejected, claim.events.len());
                audit::record_why(Outcome::Dropped, &claim.events, Some(&e.to_string()));
                claim.finish(true);
            }
            Some(Err(_)) => {
                self.wait_longer();
                claim.finish(false);
            }
            None => claim.finish(false),
        }
    }

    fn wait_longer(&mut self) {
        self.retry_at = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    fn io_failed(&mut self, e: &std::io::Error) {
        if !std::mem::replace(&mut self.warned_io, true) {
            crate::warn::warn(&format!(
                "telemetry outage spool {}: {e}; undelivered events are not kept",
                self.spool.path().display()
            ));
        }
    }
}

/// Renders and spools what a shutdown that ran out of time leaves in the queue.
pub(super) struct Leftovers {
    pub spool: Arc<Spool>,
    pub identity: Arc<RwLock<Identity>>,
    pub context: Arc<InstallContext>,
}

impl Leftovers {
    /// For a worker with a spool.
    pub(super) fn for_setup(setup: &super::WorkerSetup) -> Option<Leftovers> {
        Some(Leftovers {
            spool: setup.spool.clone()?,
            identity: setup.identity.clone(),
            context: setup.context.clone(),
        })
    }

    /// Renders and spools what a shutdown that gave up leaves: the round on the wire, what the
    /// worker held behind it, what was still queued, in that order. Uuids fixed before a
    /// round was sent are kept, so PostHog dedups a batch that did arrive.
    pub(super) fn keep_all(&self, captures: &[&Capture]) {
        if captures.is_empty() {
            return;
        }
        let events: Vec<WireEvent> = {
            let identity = self.identity.read().unwrap_or_else(|e| e.into_inner());
            captures
                .iter()
                .map(|c| wire::render(c, &identity, &self.context))
                .collect()
        };
        self.keep_rendered(&events);
    }

    /// Spools events already rendered (the batch that was on the wire).
    pub(super) fn keep_rendered(&self, events: &[WireEvent]) {
        if events.is_empty() {
            return;
        }
        match self.spool.append(events) {
            Ok(appended) => {
                Counters::add(&COUNTERS.spooled, events.len());
                Counters::add(&COUNTERS.spool_overflowed, appended.overflowed);
                audit::record(Outcome::Spooled, events);
            }
            Err(_) => audit::record(Outcome::Dropped, events),
        }
    }
}
