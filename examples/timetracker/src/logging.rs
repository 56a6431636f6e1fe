//! Structured JSON logs and request ids.
//!
//! One JSON object per line on stdout: `timestamp` (RFC 3339, UTC), `level`, `message`,
//! `target`, the event's fields, and `span.request_id` for everything logged while serving a
//! request. The request id is taken from `X-Request-ID` when the client sent a sane one,
//! generated (UUID v4) otherwise, and echoed in the response's `X-Request-ID`.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, header::HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;

/// The request id header.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The level from `TIMETRACKER_LOG` (`error`, `warn`, `info`, `debug`, `trace`; default info).
pub fn level_from_env() -> LevelFilter {
    std::env::var("TIMETRACKER_LOG")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(LevelFilter::INFO)
}

/// The log filter from `TIMETRACKER_LOG`: a level (`error`, `warn`, `info`, `debug`, `trace`)
/// or comma-separated `target=level` directives with an optional default level, e.g.
/// `info,telemetry=debug` for the telemetry audit trail (every delivered, spooled or dropped
/// event) on top of the usual info logs. Default `info`; an unparsable value is `info`.
///
/// ```
/// let filter = timetracker::logging::parse_filter("info,telemetry=debug");
/// assert!(filter.would_enable("telemetry", &tracing::Level::DEBUG));
/// assert!(!filter.would_enable("timetracker", &tracing::Level::DEBUG));
/// assert!(filter.would_enable("timetracker", &tracing::Level::INFO));
/// ```
pub fn filter_from_env() -> Targets {
    parse_filter(&std::env::var("TIMETRACKER_LOG").unwrap_or_default())
}

/// Parses a `TIMETRACKER_LOG` value (see [`filter_from_env`]).
pub fn parse_filter(value: &str) -> Targets {
    value
        .trim()
        .parse::<Targets>()
        .ok()
        .filter(|_| !value.trim().is_empty())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

/// A JSON-lines subscriber writing to `writer`, filtered per target.
pub fn subscriber_filtered<W>(writer: W, filter: Targets) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(true)
            .with_writer(writer)
            .with_filter(filter),
    )
}

/// A JSON-lines subscriber writing to `writer`.
pub fn subscriber<W>(writer: W, level: LevelFilter) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .with_max_level(level)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON subscriber on stdout for the whole process (no-op if one is installed).
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber_filtered(
        std::io::stdout,
        filter_from_env(),
    ));
}

/// Accepts a client-supplied id only when it is short and plain.
fn valid_request_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| text.to_owned())
}

/// Middleware: assigns the request id, logs the request in its span, echoes the id.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(valid_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let span = tracing::info_span!("request", request_id = %id);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(
            request_id = %id,
            method = %method,
            path = %path,
            status,
            latency_ms,
            "request completed"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_accepted() {
        assert_eq!(
            valid_request_id(&HeaderValue::from_static("abc-123")),
            Some("abc-123".to_owned())
        );
        assert_eq!(valid_request_id(&HeaderValue::from_static("a b")), None);
        assert_eq!(valid_request_id(&HeaderValue::from_static("")), None);
        let long = "x".repeat(129);
        assert_eq!(
            valid_request_id(&HeaderValue::from_str(&long).unwrap()),
            None
        );
    }
}
