//! `/metrics`, `/health`, request ids and JSON logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

/// The value of the sample line that starts with `prefix` (labels included), if any.
fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|line| line.starts_with(prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_per_route_template() {
    let mut app = TestApp::ready().await;
    let project = app.project().await;
    for _ in 0..3 {
        let resp = app.get(&format!("/api/projects/{project}")).await;
        assert_eq!(resp.status, StatusCode::OK);
    }
    app.get("/api/projects/9999").await;

    let resp = app.get("/metrics").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(
        resp.header("content-type"),
        Some(timetracker::metrics::TEXT_CONTENT_TYPE)
    );
    let text = resp.text();
    assert!(text.contains("# TYPE tt_requests counter"), "{text}");
    assert!(text.contains("# TYPE tt_request_latency_seconds histogram"));
    assert!(text.trim_end().ends_with("# EOF"));
    let ok = r#"tt_requests_total{method="GET",endpoint="/api/projects/{id}",http_status="200"}"#;
    assert_eq!(sample(&text, ok), Some(3.0), "{text}");
    let missing =
        r#"tt_requests_total{method="GET",endpoint="/api/projects/{id}",http_status="404"}"#;
    assert_eq!(sample(&text, missing), Some(1.0));
    assert!(
        !text.contains(&format!("/api/projects/{project}\"")),
        "raw paths are not labels"
    );
    let count = r#"tt_request_latency_seconds_count{endpoint="/api/projects/{id}"}"#;
    assert_eq!(sample(&text, count), Some(4.0));
    assert!(
        text.contains(
            r#"tt_request_latency_seconds_bucket{le="+Inf",endpoint="/api/projects/{id}"}"#
        ) || text.contains(
            r#"tt_request_latency_seconds_bucket{endpoint="/api/projects/{id}",le="+Inf"}"#
        )
    );

    // Counters move.
    app.get(&format!("/api/projects/{project}")).await;
    let text = app.get("/metrics").await.text();
    assert_eq!(sample(&text, ok), Some(4.0));
    let scrapes = r#"tt_requests_total{method="GET",endpoint="/metrics",http_status="200"}"#;
    assert_eq!(sample(&text, scrapes), Some(1.0));

    // Prometheus asks for OpenMetrics and gets it.
    let resp = app
        .send(
            Request::get("/metrics")
                .header(
                    "accept",
                    "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        resp.header("content-type"),
        Some(timetracker::metrics::OPENMETRICS_CONTENT_TYPE)
    );
}

#[tokio::test]
async fn metrics_include_the_pipeline_counters() {
    let mut app = TestApp::ready().await;
    let text = app.get("/metrics").await.text();
    for name in [
        "tt_telemetry_events_captured_total",
        "tt_telemetry_events_sent_total",
        "tt_telemetry_events_dropped_total",
        "tt_telemetry_events_failed_total",
    ] {
        let value = sample(&text, &format!("{name} "));
        assert!(value.is_some_and(|v| v >= 0.0), "{name} in {text}");
    }
    assert_eq!(sample(&text, "tt_telemetry_enabled "), Some(0.0));
    app.form("/admin/telemetry/toggle", &[("enabled", "true")])
        .await;
    let text = app.get("/metrics").await.text();
    assert_eq!(sample(&text, "tt_telemetry_enabled "), Some(1.0));
}

#[tokio::test]
async fn health_is_json_and_needs_no_login() {
    let mut app = TestApp::new();
    let resp = app.get("/health").await;
    assert_eq!(resp.status, StatusCode::OK);
    let body = resp.json();
    assert_eq!(body["status"], json!("ok"));
    assert_eq!(body["setup_complete"], json!(false));
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let mut app = TestApp::new();
    let resp = app
        .send(
            Request::get("/health")
                .header("x-request-id", "trace-abc_123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.header("x-request-id"), Some("trace-abc_123"));

    let generated = app.get("/health").await;
    let id = generated.header("x-request-id").expect("an id").to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let again = app.get("/health").await;
    assert_ne!(again.header("x-request-id"), Some(id.as_str()));

    // Unsafe ids are replaced, not echoed.
    let resp = app
        .send(
            Request::get("/health")
                .header("x-request-id", "<script>")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(resp.header("x-request-id"), Some("<script>"));
    // Redirects and errors carry it too.
    assert!(app.get("/").await.header("x-request-id").is_some());
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The logs of this test binary. A global subscriber, because a thread-scoped one misses
/// events when other tests register the same callsites concurrently.
fn captured_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = timetracker::logging::subscriber(
            move || writer.clone(),
            tracing::level_filters::LevelFilter::INFO,
        );
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        captured
    })
    .clone()
}

#[tokio::test]
async fn logs_are_json_lines_with_the_request_id() {
    let captured = captured_logs();
    let mut app = TestApp::new();
    app.send(
        Request::get("/health")
            .header("x-request-id", "log-test-1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let setup = app
        .complete_setup("admin", crate::support::PASSWORD, false)
        .await;
    let setup_id = setup.header("x-request-id").unwrap().to_owned();

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = output
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let completed = lines
        .iter()
        .find(|l| {
            l["message"] == json!("request completed") && l["request_id"] == json!("log-test-1")
        })
        .unwrap_or_else(|| panic!("no request log in {output}"));
    assert_eq!(completed["level"], json!("INFO"));
    assert_eq!(completed["status"], json!(200));
    assert_eq!(completed["path"], json!("/health"));
    let timestamp = completed["timestamp"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(),
        "RFC 3339: {timestamp}"
    );
    // Logs written inside a handler carry the request id of their request.
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == json!("setup completed")
                && l["span"]["request_id"] == json!(setup_id)),
        "no setup log with request id {setup_id} in {output}"
    );
    assert!(!output.contains(crate::support::PASSWORD));
}
