//! The remote kill switch's configuration on the builder, and the switch it gives at install
//! (see [`remote`](crate::remote)).

use std::sync::Arc;
use std::time::Duration;

use super::TelemetryBuilder;
use super::plan::SinkPlan;
use crate::config::EnvConfig;
use crate::remote::{DEFAULT_HOLD, DEFAULT_INTERVAL, FlagsEndpoint, Remote};
use crate::state::StateStore;

/// The builder's remote flag settings.
pub(super) struct RemoteConfig {
    pub key: Option<String>,
    pub interval: Duration,
    pub hold: Duration,
}

impl Default for RemoteConfig {
    fn default() -> RemoteConfig {
        RemoteConfig {
            key: None,
            interval: DEFAULT_INTERVAL,
            hold: DEFAULT_HOLD,
        }
    }
}

impl RemoteConfig {
    /// The switch, when a flag is named (`TELEMETRY_REMOTE_FLAG` wins over the builder) and
    /// events go to PostHog; a flag without PostHog is ignored with a warning.
    pub(super) fn build(
        &self,
        env: &EnvConfig,
        plan: &SinkPlan,
        request_timeout: Duration,
        store: &Arc<StateStore>,
    ) -> Option<Arc<Remote>> {
        let key = env
            .remote_flag
            .clone()
            .or_else(|| self.key.clone().filter(|k| !k.trim().is_empty()))?;
        let SinkPlan::PostHog { key: api_key, host } = plan else {
            crate::warn::warn(&format!(
                "the remote flag {key:?} is ignored: events do not go to PostHog (set \
                 POSTHOG_API_KEY, and not TELEMETRY_DEBUG)"
            ));
            return None;
        };
        let endpoint = FlagsEndpoint {
            api_key: api_key.clone(),
            host: host.clone(),
            timeout: request_timeout,
        };
        Some(Remote::new(
            key.trim().to_owned(),
            self.interval,
            self.hold,
            endpoint,
            store.clone(),
        ))
    }
}

impl TelemetryBuilder {
    /// A PostHog feature flag that can switch telemetry off remotely, or drop some events;
    /// `TELEMETRY_REMOTE_FLAG` wins. Evaluated only when events go to PostHog and local consent
    /// has telemetry on: it can never turn telemetry on.
    ///
    /// The flag is evaluated for the install fingerprint, on a thread of its own, when the
    /// pipeline starts and then every [`remote_flag_interval`](Self::remote_flag_interval);
    /// the request carries the install's context and nothing else.
    ///
    /// - Until the first answer (at most [`remote_flag_hold`](Self::remote_flag_hold)), events
    ///   are held, not sent, lifecycle pings included.
    /// - Flag disabled for this install: nothing is sent; captures are counted as dropped
    ///   ([`Stats::dropped_remotely`](crate::Stats::dropped_remotely)).
    /// - Flag enabled with a JSON payload `{"drop": ["event.name", ...]}`: those events are
    ///   dropped (counted the same way).
    /// - Flag unknown, or the flags service unreachable: the last decision persisted in the
    ///   install state, else on.
    ///
    /// [`Status::remote`](crate::Status::remote) shows the switch.
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Telemetry};
    /// let telemetry = Telemetry::builder()
    ///     .app("doc-app", "1.0.0")
    ///     .posthog("phc_project_key", None)
    ///     .remote_flag("telemetry-kill-switch")
    ///     .env(EnvConfig::default()) // off: the flag is never asked
    ///     .install();
    /// assert_eq!(telemetry.status().remote.unwrap().flag, "telemetry-kill-switch");
    /// ```
    pub fn remote_flag(mut self, key: impl Into<String>) -> Self {
        self.remote.key = Some(key.into());
        self
    }

    /// How often a running process evaluates the remote flag again. Default hourly.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .remote_flag("telemetry-kill-switch")
    ///     .remote_flag_interval(Duration::from_secs(15 * 60));
    /// # drop(builder);
    /// ```
    pub fn remote_flag_interval(mut self, interval: Duration) -> Self {
        self.remote.interval = interval;
        self
    }

    /// How long events are held at start for the remote flag's first answer before the last
    /// persisted decision (else on) applies. Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .remote_flag("telemetry-kill-switch")
    ///     .remote_flag_hold(Duration::from_secs(1));
    /// # drop(builder);
    /// ```
    pub fn remote_flag_hold(mut self, hold: Duration) -> Self {
        self.remote.hold = hold;
        self
    }
}
