//! One evaluation of the flag through posthog-rs's feature-flag API (`POST /flags/?v=2`).
//!
//! The request carries the project key (PostHog needs it), the install fingerprint as
//! `distinct_id`, the install's context as `person_properties` and `disable_geoip: true`:
//! nothing else. `get_feature_flags` is used rather than `evaluate_flags`, because the latter's
//! snapshot sends `$feature_flag_called` events when read, and those would carry nothing the
//! catalog declares. The client is built on the poller's own thread, never inside an async
//! runtime (posthog-rs's blocking HTTP client panics there in debug builds).

use std::collections::HashMap;
use std::time::Duration;

use posthog_rs::{ClientOptionsBuilder, FlagValue};
use serde_json::Value;

use crate::wire::InstallContext;

/// Where and how to ask.
#[derive(Clone)]
pub(crate) struct FlagsEndpoint {
    pub api_key: String,
    pub host: String,
    /// Per-request timeout (posthog-rs counts whole seconds; at least 1).
    pub timeout: Duration,
}

/// A posthog-rs client used only for `/flags`.
pub(crate) struct FlagsClient {
    client: posthog_rs::Client,
}

/// The flags and payloads of one answer, keyed by flag key.
pub(crate) type Answer = (HashMap<String, FlagValue>, HashMap<String, Value>);

impl FlagsClient {
    /// Builds the client (on the calling thread: call it from the poller's).
    pub(crate) fn new(endpoint: &FlagsEndpoint) -> Result<FlagsClient, String> {
        let options = ClientOptionsBuilder::default()
            .api_key(endpoint.api_key.clone())
            .host(endpoint.host.clone())
            .request_timeout_seconds(endpoint.timeout.as_secs().max(1))
            .feature_flags_request_timeout_seconds(endpoint.timeout.as_secs().max(1))
            .disable_geoip(true)
            .is_server(false)
            .build()
            .map_err(|e| format!("posthog options: {e}"))?;
        Ok(FlagsClient {
            client: posthog_rs::client(options),
        })
    }

    /// Asks for every flag of `fingerprint`, with the install's context as person properties.
    pub(crate) fn evaluate(
        &self,
        fingerprint: &str,
        context: &InstallContext,
    ) -> Result<Answer, String> {
        let person_properties: HashMap<String, Value> = context
            .properties()
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        self.client
            .get_feature_flags(fingerprint, None, Some(person_properties), None)
            .map_err(|e| e.to_string())
    }
}
