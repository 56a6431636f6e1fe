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
    /// A PostHog feature flag that can switch telemetry off remotely, or drop some events
    /// (see [`remote`](crate::remote)); `TELEMETRY_REMOTE_FLAG` wins. Evaluated only when events
    /// go to PostHog and local consent has telemetry on: it can never turn telemetry on.
    ///
    /// ```
    /// use telemetry_core::{Telemetry, config::EnvConfig};
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
    pub fn remote_flag_interval(mut self, interval: Duration) -> Self {
        self.remote.interval = interval;
        self
    }

    /// How long events are held at start for the remote flag's first answer before the last
    /// persisted decision (else on) applies. Default 5 s.
    pub fn remote_flag_hold(mut self, hold: Duration) -> Self {
        self.remote.hold = hold;
        self
    }
}
