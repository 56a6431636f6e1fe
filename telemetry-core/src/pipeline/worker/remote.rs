//! The worker's side of the remote kill switch (see `crate::remote`): holding events until the
//! flag's first answer, and dropping (and counting) what the flag does not allow. Built
//! without the `posthog` feature there is no flag: nothing is held or dropped.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::Receiver;

#[cfg(feature = "posthog")]
use super::super::counters::{COUNTERS, Counters};
use super::{Worker, WorkerSetup};
#[cfg(feature = "posthog")]
use crate::consent_gate as gate;
#[cfg(feature = "posthog")]
use crate::remote::Decision;

/// Without the `posthog` feature no decision exists: the type has no values.
#[cfg(not(feature = "posthog"))]
pub(super) enum Decision {}

#[cfg(not(feature = "posthog"))]
impl Decision {
    pub(super) fn allows(&self, _event: &str) -> bool {
        match *self {}
    }
}

/// Signalled after each evaluation of the remote flag (never, without one).
#[cfg(feature = "posthog")]
pub(super) fn wake(setup: &WorkerSetup) -> Receiver<()> {
    setup
        .remote
        .as_ref()
        .map_or_else(crossbeam_channel::never, |a| a.remote().wake().clone())
}

/// Without the `posthog` feature there is no remote flag to wait for.
#[cfg(not(feature = "posthog"))]
pub(super) fn wake(_setup: &WorkerSetup) -> Receiver<()> {
    crossbeam_channel::never()
}

#[cfg(not(feature = "posthog"))]
impl Worker {
    pub(super) fn remote_hold(&self) -> Option<Instant> {
        None
    }

    pub(super) fn wait_for_remote(&self) {}

    pub(super) fn remote_decision(&self) -> Option<Arc<Decision>> {
        None
    }

    pub(super) fn remote_off(&self) -> bool {
        false
    }

    pub(super) fn drop_remotely(&self, _epoch: u64, _n: usize) {}
}

#[cfg(feature = "posthog")]
impl Worker {
    /// Until when events are held for the remote flag's first answer, if they are.
    pub(super) fn remote_hold(&self) -> Option<Instant> {
        self.setup.remote.as_ref()?.remote().hold_until()
    }

    /// Waits (bounded by the hold) for the remote flag's first answer.
    pub(super) fn wait_for_remote(&self) {
        if let Some(until) = self.remote_hold() {
            let _ = self.remote_wake.recv_deadline(until);
        }
    }

    /// The remote flag's decision in force, if a flag is configured.
    pub(super) fn remote_decision(&self) -> Option<Arc<Decision>> {
        Some(self.setup.remote.as_ref()?.remote().decision())
    }

    /// Whether the remote flag switched telemetry off (lifecycle pings wait).
    pub(super) fn remote_off(&self) -> bool {
        self.setup
            .remote
            .as_ref()
            .is_some_and(|a| a.remote().disabled())
    }

    /// Books `n` held events of `epoch` as dropped by the remote flag.
    pub(super) fn drop_remotely(&self, epoch: u64, n: usize) {
        if n > 0 {
            gate::if_current(epoch, || {
                Counters::sub(&COUNTERS.holding, n);
                Counters::add(&COUNTERS.remote, n);
            });
        }
    }
}
