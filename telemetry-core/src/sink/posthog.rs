//! Delivery to PostHog through the official `posthog-rs` crate.
//!
//! We use its blocking client's `capture_batch_immediate` from our own worker thread: posthog-rs
//! serialises and gzips, and we get each batch's outcome back, so every event is counted as
//! sent or failed. Retries are ours, one posthog-rs attempt each: before every retry the sink
//! asks the pipeline whether the batch may still be sent, so no request begins after consent
//! was withdrawn (posthog-rs would retry on its own, and its blocking client cannot be
//! cancelled). Its own background queue is not used: measured, its `shutdown()`
//! is unbounded when the server hangs, and its default queue silently drops bursts. The client
//! is built lazily on the worker thread, never inside an async runtime (its blocking HTTP
//! client panics there in debug builds), and never at all while nothing is sent.

use std::time::Duration;

use posthog_rs::{CaptureCompression, ClientOptionsBuilder, Event};

use super::{Sink, SinkError};
use crate::wire::WireEvent;

/// PostHog's US cloud, the default host.
pub const DEFAULT_HOST: &str = "https://us.i.posthog.com";

/// Properties posthog-rs adds on its own that our events do not declare; stripped before send.
const SDK_ADDED: &[&str] = &[
    "$os",
    "$os_version",
    "$is_server",
    "$lib_version__major",
    "$lib_version__minor",
    "$lib_version__patch",
];

/// How to reach PostHog.
#[derive(Clone)]
pub struct PostHogOptions {
    /// The project API key.
    pub api_key: String,
    /// The host, e.g. `https://eu.i.posthog.com` or a self-hosted URL.
    pub host: String,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Attempts per batch, the first included.
    pub max_attempts: u32,
    /// Gzip request bodies.
    pub gzip: bool,
}

impl std::fmt::Debug for PostHogOptions {
    // The key is a credential: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostHogOptions")
            .field("host", &self.host)
            .field("request_timeout", &self.request_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl PostHogOptions {
    /// Options with the defaults: 5 s per request, 3 attempts, gzip on.
    pub fn new(api_key: impl Into<String>, host: Option<String>) -> PostHogOptions {
        PostHogOptions {
            api_key: api_key.into(),
            host: host.unwrap_or_else(|| DEFAULT_HOST.to_owned()),
            request_timeout: Duration::from_secs(5),
            max_attempts: 3,
            gzip: true,
        }
    }
}

/// The default PostHog host.
pub fn posthog_default_host() -> String {
    DEFAULT_HOST.to_owned()
}

/// Sends batches to PostHog's `/batch/` endpoint.
pub struct PostHogSink {
    options: PostHogOptions,
    client: Option<posthog_rs::Client>,
    converter: Converter,
}

impl PostHogSink {
    /// A sink for these options; no client is built and no connection opened until a send.
    pub fn new(options: PostHogOptions) -> PostHogSink {
        PostHogSink {
            options,
            client: None,
            converter: Converter::default(),
        }
    }

    fn client(&mut self) -> Result<&posthog_rs::Client, SinkError> {
        if self.client.is_none() {
            let o = &self.options;
            let mut builder = ClientOptionsBuilder::default();
            builder
                .api_key(o.api_key.clone())
                .host(o.host.clone())
                .request_timeout_seconds(o.request_timeout.as_secs().max(1))
                // One request per call: retries are ours (see the module docs).
                .max_capture_attempts(1)
                .disable_geoip(true)
                .is_server(false)
                .before_send(|mut event: Event| {
                    for key in SDK_ADDED {
                        event.remove_prop(key);
                    }
                    Some(event)
                });
            if o.gzip {
                builder.capture_compression(CaptureCompression::Gzip);
            }
            let options = builder
                .build()
                .map_err(|e| SinkError::new(format!("posthog options: {e}")))?;
            self.client = Some(posthog_rs::client(options));
        }
        Ok(self.client.as_ref().expect("built above"))
    }
}

/// Converts our wire events into the posthog-rs events that carry exactly the same fields.
///
/// Built once per attempt straight from the wire events (never a copy of an earlier batch:
/// `capture_batch_immediate` consumes what it sends). Each event starts as a clone of a
/// template for its name and distinct id: `Event::new` draws a fresh UUIDv7 from the OS (a
/// system call per event, measured on the worker with `cargo bench -p telemetry-tests --bench
/// e2e`) that `set_uuid` then overwrites with ours.
#[derive(Default)]
struct Converter {
    template: Option<Event>,
}

impl Converter {
    fn batch(&mut self, events: &[WireEvent]) -> Vec<Event> {
        events.iter().map(|event| self.event(event)).collect()
    }

    fn event(&mut self, event: &WireEvent) -> Event {
        let template = match &mut self.template {
            Some(t) if t.event_name() == event.event && t.distinct_id() == event.distinct_id => t,
            slot => slot.insert(template(&event.event, &event.distinct_id)),
        };
        let mut out = template.clone();
        for (key, value) in &event.properties {
            // Inserting a serde_json::Value cannot fail.
            let _ = out.insert_prop(key.as_str(), value);
        }
        if let Ok(uuid) = uuid::Uuid::parse_str(&event.uuid) {
            out.set_uuid(uuid);
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&event.timestamp) {
            // Rejected only when more than 1 s in the future (clock skew): then PostHog stamps it.
            let _ = out.set_timestamp(at);
        }
        out
    }
}

/// An empty event for this name and distinct id, shaped so that its clones are cheap to fill.
///
/// Its property table has room for a whole event (a clone keeps the capacity, so no event
/// grows its table insert by insert), and it holds `null` placeholders for the SDK properties
/// posthog-rs would add to every event (`$os`, `$os_version`, and the three `$lib_version__*`,
/// which posthog-rs computes from a semver parse per event when `$lib_version__major` is
/// absent). posthog-rs adds only what is missing, and `before_send` strips all of them (see
/// [`SDK_ADDED`]), so what goes on the wire does not change.
fn template(name: &str, distinct_id: &str) -> Event {
    const ROOM: usize = 32;
    let mut event = Event::new(name, distinct_id);
    for i in 0..ROOM {
        let _ = event.insert_prop(format!("{i}"), ());
    }
    for i in 0..ROOM {
        event.remove_prop(&format!("{i}"));
    }
    for key in ["$os", "$os_version", "$lib_version__major"] {
        let _ = event.insert_prop(key, ());
    }
    event
}

/// Whether a failed attempt is worth another: what posthog-rs itself retries (transport
/// errors, 408, 500, 502, 503, 504), and 429 (posthog-rs retries it only with `Retry-After`,
/// which a single attempt does not report; the backoff below stays short either way).
fn retryable(error: &posthog_rs::Error) -> bool {
    use posthog_rs::Error;
    match error {
        Error::Connection(message) => {
            // Other statuses come back as "Unexpected HTTP status N": only 408 is transient.
            !message.starts_with("Unexpected HTTP status") || message.contains("status 408")
        }
        Error::ServerError { status, .. } => matches!(status, 500 | 502 | 503 | 504),
        Error::RateLimit => true,
        _ => false,
    }
}

/// 100 ms, 200 ms, 400 ms, ... at most 2 s (what posthog-rs was configured with before).
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((100u64 << attempt.saturating_sub(1).min(5)).min(2_000))
}

impl Sink for PostHogSink {
    fn kind(&self) -> &'static str {
        "posthog"
    }

    fn target(&self) -> Option<String> {
        Some(self.options.host.clone())
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        let attempts = self.options.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let batch = self.converter.batch(events);
            let error = match self.client()?.capture_batch_immediate(batch, false) {
                // posthog-rs answers `Ok` with nothing submitted when it disabled itself (its
                // HTTP client could not be built, or the key is blank): nothing was sent.
                Ok(summary) if summary.submitted() == 0 => {
                    return Err(SinkError::new(format!(
                        "PostHog at {}: the posthog-rs client is disabled (its HTTP client \
                         could not be built, or the key is blank); nothing was sent",
                        self.options.host
                    )));
                }
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let message = || format!("PostHog at {}: {error}", self.options.host);
            if !retryable(&error) {
                // PostHog refused the batch itself (a bad project key, a malformed or too large
                // batch): sending it again, now or from the spool, cannot succeed.
                return Err(SinkError::permanent(message()));
            }
            if attempt >= attempts {
                return Err(SinkError::new(message()));
            }
            std::thread::sleep(backoff(attempt));
            if !crate::consent_gate::may_send() {
                // Consent was withdrawn meanwhile: no further request for this batch.
                return Err(SinkError::new(message()));
            }
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// posthog-rs disables itself (and answers `Ok`) for a blank key, exactly as when its HTTP
    /// client cannot be built: the sink reports that as a failure, not a delivery.
    #[test]
    fn a_disabled_posthog_client_is_a_failure_not_a_delivery() {
        let mut sink = PostHogSink::new(PostHogOptions::new(
            "   ",
            Some("http://127.0.0.1:9".into()),
        ));
        let error = sink.send(&[WireEvent::sample()]).unwrap_err();
        assert!(error.to_string().contains("disabled"), "{error}");
    }

    /// An event built from the pre-sized template, once posthog-rs's `before_send` stripped
    /// the SDK properties, is the event built the plain way, for every event of a batch.
    #[test]
    fn template_events_equal_plainly_built_ones_after_before_send() {
        let mut first = WireEvent::sample();
        first.uuid = "0189a1b2-0000-7000-8000-0000000000aa".into();
        first.timestamp = "2026-01-01T00:00:00.123456Z".into();
        first.properties.insert("n".into(), serde_json::json!(3));
        first
            .properties
            .insert("kind".into(), serde_json::json!("csv"));
        let mut second = first.clone();
        second.event = "doc.closed".into();
        second.uuid = "0189a1b2-0000-7000-8000-0000000000bb".into();
        let mut converter = Converter::default();
        for event in [&first, &second, &first] {
            let mut ours = converter.event(event);
            for key in SDK_ADDED {
                ours.remove_prop(key);
            }
            let mut plain = Event::new(event.event.as_str(), event.distinct_id.as_str());
            for (key, value) in &event.properties {
                plain.insert_prop(key.as_str(), value).unwrap();
            }
            plain.set_uuid(uuid::Uuid::parse_str(&event.uuid).unwrap());
            let at = chrono::DateTime::parse_from_rfc3339(&event.timestamp).unwrap();
            plain.set_timestamp(at).unwrap();
            assert_eq!(ours, plain);
        }
    }

    #[test]
    fn options_default_to_the_us_cloud_and_hide_the_key() {
        let options = PostHogOptions::new("phc_key", None);
        assert_eq!(options.host, "https://us.i.posthog.com");
        assert_eq!(options.host, posthog_default_host());
        assert!(!format!("{options:?}").contains("phc_key"));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        use posthog_rs::Error;
        assert!(retryable(&Error::Connection("connection refused".into())));
        assert!(retryable(&Error::ServerError {
            status: 503,
            message: String::new()
        }));
        assert!(!retryable(&Error::ServerError {
            status: 501,
            message: String::new()
        }));
        assert!(!retryable(&Error::Unauthorized));
        assert!(!retryable(&Error::BadRequest(String::new())));
        assert!(!retryable(&Error::Connection(
            "Unexpected HTTP status 404: nope".into()
        )));
        assert!(retryable(&Error::Connection(
            "Unexpected HTTP status 408: slow".into()
        )));
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(400));
        assert_eq!(backoff(30), Duration::from_secs(2));
    }
}
