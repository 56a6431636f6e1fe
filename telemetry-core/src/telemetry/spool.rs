//! The install's outage spool: its bounds on the builder, where it lives, and deleting it when
//! consent goes (see [`crate::spool`]).

use std::sync::Arc;

use super::plan::SinkPlan;
use super::{Inner, TelemetryBuilder};
use crate::spool::{Spool, SpoolLimits};
use crate::state::StateStore;

impl TelemetryBuilder {
    /// Bounds of the outage spool (PostHog only): by default 10 MiB and 7 days. See
    /// [`SpoolLimits`].
    ///
    /// ```
    /// use telemetry_core::{SpoolLimits, Telemetry};
    /// let builder = Telemetry::builder().spool_limits(SpoolLimits {
    ///     max_bytes: 1024 * 1024,
    ///     ..SpoolLimits::default()
    /// });
    /// # drop(builder);
    /// ```
    pub fn spool_limits(mut self, limits: SpoolLimits) -> Self {
        self.spool_limits = limits;
        self
    }
}

impl Inner {
    /// Deletes every outage spool file next to the install state (any destination).
    pub(super) fn delete_spool(&self) {
        if let Some(dir) = self.store.path().parent() {
            crate::spool::delete_all(dir);
        }
    }
}

/// The spool for a PostHog plan whose install state is on disk (none otherwise: custom,
/// JSONL and dry-run sinks need none, and in-memory state has nowhere to keep it).
pub(super) fn spool_for(
    plan: &SinkPlan,
    store: &StateStore,
    limits: SpoolLimits,
) -> Option<Arc<Spool>> {
    let (key, host) = plan.posthog()?;
    let dir = store.path().parent()?;
    store
        .is_persistent()
        .then(|| Arc::new(Spool::new(dir, host, key, limits)))
}
