//! The audit trail: every event that was delivered, spooled or dropped, as a `tracing` event.
//!
//! Target `telemetry`, level DEBUG (quiet unless a filter asks, e.g. `RUST_LOG=telemetry=debug`),
//! fields `event` (the name), `uuid`, `outcome` and `properties` (the properties exactly as
//! sent, as a JSON string), and `reason` for an event the destination rejected for good. Only what goes over the wire is logged: never the API key, the
//! salt or the raw install id (the wire carries only their salted hash).

use crate::wire::WireEvent;

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A sink accepted it.
    Delivered,
    /// Delivery failed; it waits in the outage spool.
    Spooled,
    /// Delivered from the outage spool.
    Recovered,
    /// It will never be sent (failed without a spool, rejected for good by the destination,
    /// or removed from the spool by its size or age bound).
    Dropped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Spooled => "spooled",
            Outcome::Recovered => "recovered",
            Outcome::Dropped => "dropped",
        }
    }
}

/// Emits one DEBUG event per wire event; costs one level check when nobody listens.
pub(crate) fn record(outcome: Outcome, events: &[WireEvent]) {
    record_why(outcome, events, None);
}

/// Whether the audit trail is wanted (a subscriber takes DEBUG events of target `telemetry`):
/// events not otherwise rendered are rendered for it only then.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "telemetry", tracing::Level::DEBUG)
}

/// [`record`] with a `reason` field (e.g. why PostHog will never take the events).
pub(crate) fn record_why(outcome: Outcome, events: &[WireEvent], reason: Option<&str>) {
    if !enabled() {
        return;
    }
    for e in events {
        let properties = serde_json::to_string(&e.properties).unwrap_or_default();
        tracing::debug!(
            target: "telemetry",
            event = %e.event,
            uuid = %e.uuid,
            outcome = outcome.as_str(),
            properties = %properties,
            reason,
            "telemetry event {}",
            outcome.as_str()
        );
    }
}

/// Emits one DEBUG event for `n` events dropped before they were rendered (so without names).
pub(crate) fn dropped_unrendered(n: u64, why: &str) {
    if n > 0 {
        tracing::debug!(target: "telemetry", outcome = "dropped", count = n, reason = why, "telemetry events dropped");
    }
}
