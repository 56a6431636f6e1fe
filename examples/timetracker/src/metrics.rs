//! Prometheus metrics (`/metrics`) and the health check (`/health`).
//!
//! `tt_requests_total{method,endpoint,http_status}` and `tt_request_latency_seconds{endpoint}`
//! are recorded per matched route template (`/api/tasks/{id}`, not `/api/tasks/7`), so the
//! label set stays bounded. The toolkit's pipeline counters are read from
//! `Telemetry::status()` at each scrape.

use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::state::AppState;
use crate::telemetry_setup::{self, Telemetry};

/// The OpenMetrics content type, served when the scraper asks for it (Prometheus does).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type for everyone else (a browser shows it as text).
pub const TEXT_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    endpoint: String,
    http_status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

/// The registry and the request metrics of one app instance.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: LatencyFamily,
}

type LatencyFamily = Family<EndpointLabels, Histogram, fn() -> Histogram>;

/// Buckets from 1 ms to about 15 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.5, 12))
}

impl Metrics {
    /// A registry with the request metrics and the telemetry pipeline counters.
    pub fn new(telemetry: Telemetry) -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "tt_requests",
            "HTTP requests by method, matched route and status",
            requests.clone(),
        );
        let latency: LatencyFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "tt_request_latency_seconds",
            "HTTP request latency by matched route",
            latency.clone(),
        );
        registry.register_collector(Box::new(PipelineCollector(telemetry)));
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
        }
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, endpoint: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                endpoint: endpoint.to_owned(),
                http_status: status,
            })
            .inc();
        self.latency
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .observe(seconds);
    }

    /// The metrics in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }
}

/// Reads the toolkit's pipeline counters at each scrape.
struct PipelineCollector(Telemetry);

impl std::fmt::Debug for PipelineCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PipelineCollector")
    }
}

impl Collector for PipelineCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let status = telemetry_setup::status(&self.0);
        let counters = [
            (
                "tt_telemetry_events_captured",
                "Telemetry events handed to the pipeline",
                status.counters.captured,
            ),
            (
                "tt_telemetry_events_sent",
                "Telemetry events a sink accepted",
                status.counters.sent,
            ),
            (
                "tt_telemetry_events_dropped",
                "Telemetry events dropped (queue full, consent withdrawn, shutdown timeout)",
                status.counters.dropped,
            ),
            (
                "tt_telemetry_events_failed",
                "Telemetry events a sink rejected after retries",
                status.counters.failed,
            ),
            (
                "tt_telemetry_events_spooled",
                "Telemetry events kept in the outage spool because PostHog did not take them",
                status.counters.spooled,
            ),
            (
                "tt_telemetry_events_recovered",
                "Telemetry events delivered from the outage spool",
                status.counters.recovered,
            ),
            (
                "tt_telemetry_spool_expired",
                "Spooled telemetry events removed unsent by the age bound",
                status.counters.spool_expired,
            ),
            (
                "tt_telemetry_spool_overflowed",
                "Spooled telemetry events removed unsent (the oldest) by the size bound",
                status.counters.spool_overflowed,
            ),
            (
                "tt_telemetry_spool_rejected",
                "Spooled telemetry events PostHog rejected for good when they were re-sent",
                status.counters.spool_rejected,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        let queued = ConstGauge::new(i64::try_from(status.counters.queued).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "tt_telemetry_events_queued",
            "Telemetry events waiting in the pipeline for delivery",
            None,
            queued.metric_type(),
        )?;
        queued.encode(metric)?;
        let pending = ConstGauge::new(i64::try_from(status.spool_pending).unwrap_or(i64::MAX));
        let metric = encoder.encode_descriptor(
            "tt_telemetry_spool_pending",
            "Telemetry events waiting in the outage spool",
            None,
            pending.metric_type(),
        )?;
        pending.encode(metric)?;
        let enabled = ConstGauge::new(i64::from(status.enabled));
        let metric = encoder.encode_descriptor(
            "tt_telemetry_enabled",
            "1 when telemetry is on, 0 when off",
            None,
            enabled.metric_type(),
        )?;
        enabled.encode(metric)
    }
}

/// The `method` label: the standard methods by name, anything else (a client can send any
/// token) as `other`, so a scanner cannot grow the label set.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// Middleware: counts and times every request by its matched route template.
pub async fn track_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    state.metrics.observe(
        method,
        &endpoint,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        TEXT_CONTENT_TYPE
    };
    (
        [(header::CONTENT_TYPE, content_type)],
        state.metrics.render(),
    )
        .into_response()
}

async fn health(State(state): State<AppState>) -> Response {
    let db_ok = state
        .db
        .call(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?))
        .await
        .is_ok();
    let status = if db_ok {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "database": if db_ok { "ok" } else { "unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
        "setup_complete": state.setup_complete(),
    });
    (status, Json(body)).into_response()
}

/// Routes: `/metrics`, `/health`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/health", get(health))
}
