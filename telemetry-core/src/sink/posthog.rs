//! Delivery to PostHog through the official `posthog-rs` crate.
//!
//! We use its blocking client's `capture_batch_immediate` from our own worker thread: posthog-rs
//! serialises and gzips, and we get each batch's outcome back, so every event is counted as
//! sent or failed. Retries are ours, one posthog-rs attempt each: before every request (each
//! lane's first included) the sink asks the pipeline whether the batch may still be sent, so no
//! request begins after consent was withdrawn (posthog-rs would retry on its own, and its blocking client cannot be
//! cancelled). Its own background queue is not used: measured, its `shutdown()`
//! is unbounded when the server hangs, and its default queue silently drops bursts. The client
//! is built lazily on the worker thread, never inside an async runtime (its blocking HTTP
//! client panics there in debug builds), and never at all while nothing is sent.

use std::time::Duration;

use posthog_rs::{CaptureCompression, ClientOptionsBuilder, Event};

use super::{Sink, SinkError};
use crate::capture::Capture;
use crate::fingerprint::Identity;
use crate::wire::{self, InstallContext, Properties, WireEvent};

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

/// Batches one call of [`Sink::send_all`] may send at once, each on its own thread and
/// connection: on a backlog, one batch is serialised while the other waits for PostHog.
const LANES: usize = 2;

/// Sends batches to PostHog's `/batch/` endpoint.
pub struct PostHogSink {
    options: PostHogOptions,
    client: Option<posthog_rs::Client>,
    /// One per lane (each keeps its own event template).
    converters: [Converter; LANES],
}

impl PostHogSink {
    /// A sink for these options; no client is built and no connection opened until a send.
    pub fn new(options: PostHogOptions) -> PostHogSink {
        PostHogSink {
            options,
            client: None,
            converters: Default::default(),
        }
    }

    /// The client (built on first use), the options and the lanes' converters, borrowed apart.
    fn parts(
        &mut self,
    ) -> Result<
        (
            &posthog_rs::Client,
            &PostHogOptions,
            &mut [Converter; LANES],
        ),
        SinkError,
    > {
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
        let PostHogSink {
            options,
            client,
            converters,
        } = self;
        let client = client
            .as_ref()
            .ok_or_else(|| SinkError::new("posthog client missing"))?;
        Ok((client, options, converters))
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

    /// A clone of the template for this name and distinct id.
    fn start(&mut self, name: &str, distinct_id: &str) -> Event {
        match &mut self.template {
            Some(t) if t.event_name() == name && t.distinct_id() == distinct_id => t.clone(),
            slot => slot.insert(template(name, distinct_id)).clone(),
        }
    }

    /// The posthog-rs event for a wire event (a spooled batch, a lifecycle ping).
    fn event(&mut self, event: &WireEvent) -> Event {
        let mut out = self.start(&event.event, &event.distinct_id);
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

    /// The posthog-rs event for a capture, rendered straight from it: the same event as
    /// [`Converter::event`] of its [`wire::render`], without building that first.
    fn captured(
        &mut self,
        capture: &Capture,
        identity: &Identity,
        context: &InstallContext,
    ) -> Event {
        let mut out = self.start(capture.def.name, &wire::distinct_id(capture, identity));
        wire::render_properties(capture, identity, context, &mut out);
        out.set_uuid(wire::uuid(capture));
        let _ = out.set_timestamp(wire::timestamp(capture));
        out
    }
}

/// Properties rendered straight into the event posthog-rs sends (inserting JSON values,
/// strings and booleans cannot fail).
impl Properties for Event {
    fn put(&mut self, key: &'static str, value: serde_json::Value) {
        let _ = self.insert_prop(key, value);
    }

    fn put_ref(&mut self, key: &'static str, value: &serde_json::Value) {
        let _ = self.insert_prop(key, value);
    }

    fn put_str(&mut self, key: &'static str, value: &str) {
        let _ = self.insert_prop(key, value);
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
            return Ok(()); // no client is built while nothing is sent
        }
        let (client, options, [converter, _]) = self.parts()?;
        deliver(client, options, events.len(), &mut || {
            converter.batch(events)
        })
    }

    fn lanes(&self) -> usize {
        LANES
    }

    fn send_all(&mut self, batches: &[&[WireEvent]]) -> Vec<Result<(), SinkError>> {
        self.in_lanes(batches, |client, options, converter, events| {
            deliver(client, options, events.len(), &mut || {
                converter.batch(events)
            })
        })
    }
}

impl PostHogSink {
    /// Sends batches of captures, each rendered straight into posthog-rs events on its lane's
    /// thread (no [`WireEvent`] in between): one outcome per batch, in order.
    pub(crate) fn send_captures(
        &mut self,
        batches: &[&[Capture]],
        identity: &Identity,
        context: &InstallContext,
    ) -> Vec<Result<(), SinkError>> {
        self.in_lanes(batches, |client, options, converter, captures| {
            deliver(client, options, captures.len(), &mut || {
                captures
                    .iter()
                    .map(|c| converter.captured(c, identity, context))
                    .collect()
            })
        })
    }

    /// Runs `send` for every batch, up to [`LANES`] at once, one thread each (the first on the
    /// caller's): every batch has its own attempts and its own outcome. A thread that cannot
    /// be started leaves its batch to the caller's thread.
    fn in_lanes<B: Sync>(
        &mut self,
        batches: &[B],
        send: impl Fn(&posthog_rs::Client, &PostHogOptions, &mut Converter, &B) -> Result<(), SinkError>
        + Sync,
    ) -> Vec<Result<(), SinkError>> {
        if batches.is_empty() {
            return Vec::new();
        }
        let (client, options, converters) = match self.parts() {
            Ok(parts) => parts,
            Err(e) => return vec![Err(e); batches.len()],
        };
        let [first_converter, second_converter] = converters;
        let send = &send;
        // A lane's thread answers `may_send` for the delivery the worker's thread began.
        let epoch = crate::consent_gate::delivering();
        let mut outcomes = Vec::with_capacity(batches.len());
        for round in batches.chunks(LANES) {
            let [first, rest @ ..] = round else { continue };
            if rest.is_empty() {
                outcomes.push(send(client, options, first_converter, first));
                continue;
            }
            std::thread::scope(|scope| {
                let second = &rest[0];
                let converter = &mut *second_converter;
                let lane = std::thread::Builder::new()
                    .name("telemetry-send".into())
                    .spawn_scoped(scope, move || {
                        crate::consent_gate::delivering_for(epoch, || {
                            send(client, options, converter, second)
                        })
                    });
                outcomes.push(send(client, options, first_converter, first));
                outcomes.push(match lane {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|_| Err(SinkError::new("the PostHog sink panicked"))),
                    Err(_) => send(client, options, first_converter, second),
                });
            });
        }
        outcomes
    }
}

/// One batch of `n` events to PostHog: posthog-rs attempts of what `build` makes (built anew
/// per attempt: posthog-rs consumes what it sends), retried while that may help and consent
/// holds.
fn deliver(
    client: &posthog_rs::Client,
    options: &PostHogOptions,
    n: usize,
    build: &mut dyn FnMut() -> Vec<Event>,
) -> Result<(), SinkError> {
    if n == 0 {
        return Ok(());
    }
    let attempts = options.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        if !crate::consent_gate::may_send() {
            // Consent was withdrawn before this request began (a lane that started late, or
            // during a backoff): no request for this batch.
            return Err(SinkError::new(format!(
                "PostHog at {}: consent withdrawn before the request",
                options.host
            )));
        }
        let error = match client.capture_batch_immediate(build(), false) {
            // posthog-rs answers `Ok` with nothing submitted when it disabled itself (its
            // HTTP client could not be built, or the key is blank): nothing was sent.
            Ok(summary) if summary.submitted() == 0 => {
                return Err(SinkError::new(format!(
                    "PostHog at {}: the posthog-rs client is disabled (its HTTP client \
                     could not be built, or the key is blank); nothing was sent",
                    options.host
                )));
            }
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let message = || format!("PostHog at {}: {error}", options.host);
        if !retryable(&error) {
            // PostHog refused the batch itself (a bad project key, a malformed or too large
            // batch): sending it again, now or from the spool, cannot succeed.
            return Err(SinkError::permanent(message()));
        }
        if attempt >= attempts {
            return Err(SinkError::new(message()));
        }
        std::thread::sleep(backoff(attempt));
        attempt += 1;
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

    /// The straight render of a capture (what user events take) is the event the sink builds
    /// from the capture's wire render (what spooled batches and lifecycle pings take): same
    /// name, distinct id, uuid, timestamp and properties, hashed ones included.
    #[test]
    fn a_capture_rendered_straight_equals_its_wire_event_converted() {
        use crate::catalog::test_support::def;
        use crate::definition::{PropDef, Trigger};
        use crate::environment::EnvironmentInfo;
        use crate::property::{HashInput, PropValue, ValueKind};

        let identity = Identity::new(vec![7; 32], "install-9");
        let context = InstallContext::new("2.1.0", EnvironmentInfo::current());
        let props = vec![
            PropDef::new("count", "u64", ValueKind::Integer, &[]),
            PropDef::new("ratio", "f64", ValueKind::Float, &[]),
            PropDef::new("owner", "Hashed<u64>", ValueKind::Hashed, &[]),
            PropDef::new("billable", "bool", ValueKind::Boolean, &[]),
            PropDef::new("note", "Option<u8>", ValueKind::Integer, &[]),
        ];
        let exported = def(
            "report.exported",
            "A report.",
            Trigger::Success,
            props,
            "a.rs",
            1,
        );
        let opened = def(
            "doc.opened",
            "A doc.",
            Trigger::Success,
            Vec::new(),
            "a.rs",
            2,
        );
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_767_225_600_123_456_789);
        let capture = |def, subject: Option<HashInput>| Capture {
            def,
            props: [
                PropValue::UInt(42),
                PropValue::Float(0.5),
                PropValue::Hashed(HashInput::UInt(77)),
                PropValue::Bool(true),
                PropValue::Null,
            ]
            .into_iter()
            .take(def.props.len())
            .collect(),
            distinct_id: subject,
            at,
            extra: vec![("previous_version", serde_json::json!("2.0.0"))],
            uuid: Some(wire::event_uuid(at)),
        };
        let captures = [
            capture(exported, None),
            capture(exported, Some(HashInput::Text("user-1".into()))),
            capture(opened, None),
            capture(exported, None),
        ];
        let mut straight = Converter::default();
        let mut converted = Converter::default();
        for c in &captures {
            let ours = straight.captured(c, &identity, &context);
            let wire = wire::render(c, &identity, &context);
            assert_eq!(ours, converted.event(&wire), "{wire:?}");
            assert_eq!(
                ours.properties().len(),
                wire.properties.len() + 3,
                "placeholders"
            );
            if c.def.name == "report.exported" {
                assert_eq!(ours.properties()["owner"], identity.hash(b"77"));
            }
        }
    }

    /// Nothing to send builds no posthog-rs client (whose blocking HTTP client must not be
    /// built inside an async runtime).
    #[test]
    fn an_empty_send_builds_no_client() {
        let mut sink = PostHogSink::new(PostHogOptions::new("phc_key", None));
        assert_eq!(sink.send(&[]), Ok(()));
        assert!(sink.send_all(&[]).is_empty());
        assert!(sink.client.is_none());
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
