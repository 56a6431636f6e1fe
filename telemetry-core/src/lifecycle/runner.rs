//! Sends the lifecycle pings that are due, from the pipeline's worker thread.
//!
//! A ping is recorded in the install state only after the sink accepted it, so a start whose
//! pings failed (PostHog down) sends them again next time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use chrono::Utc;

use super::dedup::ping_uuid;
use super::schedule::{Ping, due_pings, mark_sent, next_health_in};
use crate::capture::{Capture, Props};
use crate::environment::EnvironmentInfo;
use crate::fingerprint::Identity;
use crate::pipeline::Lifecycle;
use crate::state::StateStore;

/// The shortest pause between two checks, so a tiny configured interval cannot spin.
const MIN_CHECK: Duration = Duration::from_millis(50);
/// The pause after a ping was not accepted (capped by the health interval).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

pub(crate) struct LifecycleRunner {
    pub store: Arc<StateStore>,
    /// The identity pings are sent under (their uuids derive from its fingerprint).
    pub identity: Arc<RwLock<Identity>>,
    /// Already sanitised (`config::sanitize_version`).
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
        let environment = super::events::common_properties(EnvironmentInfo::current());
        let fingerprint = self
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .distinct_id()
            .to_owned();
        for ping in due_pings(&state, &self.app_version, now, self.health_interval) {
            warn_if_stored_version_invalid(&ping);
            let mut extra = environment.clone();
            extra.extend(ping.extra_properties());
            let capture = Capture {
                def: ping.kind().definition(),
                props: Props::new(),
                distinct_id: None,
                at: SystemTime::now(),
                extra,
                uuid: Some(ping_uuid(&fingerprint, &ping, &self.app_version, now)),
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

/// One warning per process when the recorded last version is not a plain version token (it is
/// sent as `"invalid"`).
fn warn_if_stored_version_invalid(ping: &Ping) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if let Ping::Update { old_version, .. } = ping
        && crate::config::sanitize_version(old_version).is_err()
        && !WARNED.swap(true, Ordering::Relaxed)
    {
        crate::warn::warn(
            "the install state's last version is not a plain version token; it is sent as \"invalid\"",
        );
    }
}
