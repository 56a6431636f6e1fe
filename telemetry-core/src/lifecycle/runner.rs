//! Sends the lifecycle pings that are due, from the pipeline's worker thread.
//!
//! A ping is recorded in the install state only after the sink accepted it, so a start whose
//! pings failed (PostHog down) sends them again next time.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;

use super::schedule::{due_pings, mark_sent, next_health_in};
use crate::capture::{Capture, Props};
use crate::environment::EnvironmentInfo;
use crate::pipeline::Lifecycle;
use crate::state::StateStore;

/// The shortest pause between two checks, so a tiny configured interval cannot spin.
const MIN_CHECK: Duration = Duration::from_millis(50);
/// The pause after a ping was not accepted (capped by the health interval).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

pub(crate) struct LifecycleRunner {
    pub store: Arc<StateStore>,
    pub app_version: String,
    pub health_interval: Duration,
    /// Set when the last attempt was not accepted, to back off instead of retrying at once.
    pub failed: bool,
}

impl Lifecycle for LifecycleRunner {
    fn run(&mut self, send: &mut dyn FnMut(Capture) -> bool) {
        // Re-read: another process sharing the state dir may have sent a ping meanwhile.
        let state = self.store.reload();
        let now = Utc::now();
        self.failed = false;
        let environment = EnvironmentInfo::current().to_properties();
        for ping in due_pings(&state, &self.app_version, now, self.health_interval) {
            let mut extra = environment.clone();
            extra.extend(ping.extra_properties());
            let capture = Capture {
                def: ping.kind().definition(),
                props: Props::new(),
                distinct_id: None,
                at: SystemTime::now(),
                extra,
            };
            if !send(capture) {
                // Not accepted: not recorded, so it is due again at the next check or start.
                self.failed = true;
                return;
            }
            self.store
                .update(|s| mark_sent(s, ping.kind(), now, &self.app_version));
        }
    }

    fn interval(&self) -> Duration {
        if self.failed {
            return RETRY_AFTER_FAILURE.min(self.health_interval).max(MIN_CHECK);
        }
        let state = self.store.state();
        next_health_in(&state, Utc::now(), self.health_interval).max(MIN_CHECK)
    }
}
