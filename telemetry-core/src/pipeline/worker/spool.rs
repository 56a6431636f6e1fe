//! The worker's side of the outage spool (see `crate::spool` and `outage.rs`): the audit
//! trail and spooling after each delivery, and re-sending what the spool holds.

use std::sync::{Mutex, MutexGuard};

use super::super::outage::Outage;
use super::Worker;
use crate::audit::{self, Outcome};
use crate::sink::SinkError;
use crate::wire::WireEvent;

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Worker {
    /// Audit trail and spool for a batch delivery that was attempted. A batch the sink
    /// rejected for good ([`SinkError::is_permanent`]) is dropped, not spooled: sending it
    /// again cannot succeed.
    pub(super) fn after_delivery(
        &mut self,
        epoch: u64,
        events: &[WireEvent],
        result: &Result<(), SinkError>,
    ) {
        match (self.outage.as_mut(), result) {
            (outage, Ok(())) => {
                audit::record(Outcome::Delivered, events);
                if let Some(outage) = outage {
                    outage.delivery_succeeded();
                }
            }
            (Some(outage), Err(e)) if !e.is_permanent() => outage.keep(epoch, events),
            (_, Err(e)) => audit::record_why(Outcome::Dropped, events, Some(&e.to_string())),
        }
    }

    /// Re-sends spooled batches, oldest first, while consent holds (the epoch pings are sent
    /// in: a withdrawal ends it) and they are accepted; after a failure waits (with backoff)
    /// for the next try, except that a batch rejected for good is removed and the next one
    /// goes at once. Stops as soon as a control message is waiting.
    pub(super) fn resend_spool(&mut self) {
        let size = self.setup.config.batch_size.max(1);
        while self.outage.as_ref().is_some_and(Outage::due) && self.control.is_empty() {
            if self.remote_hold().is_some() || self.remote_off() {
                return; // the remote flag has not answered, or switched telemetry off: kept
            }
            let epoch = self.ping_epoch;
            let Some(mut claim) = self.outage.as_mut().and_then(|o| o.claim(size)) else {
                return;
            };
            if let Some(decision) = self.remote_decision() {
                // Events on the remote drop list are not sent, from the spool either.
                let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut claim.events)
                    .into_iter()
                    .partition(|e| decision.allows(&e.event));
                audit::record(Outcome::Dropped, &dropped);
                claim.events = kept;
                if claim.events.is_empty() {
                    claim.finish(true);
                    continue;
                }
            }
            let outcome = self.deliver(epoch, &claim.events);
            if let Some(outage) = self.outage.as_mut() {
                outage.settle_claim(claim, outcome);
            }
        }
    }
}
