//! The transparency document: served, and the committed copies are current.

use axum::http::StatusCode;
use telemetry_core::catalog::{Format, assert_document_current};

use crate::support::TestApp;

#[test]
fn committed_transparency_documents_are_current() {
    // `TELEMETRY_CATALOG_BLESS=1 cargo test -p timetracker --test app` rewrites them.
    assert_document_current("TRACKED_EVENTS.md", Format::Markdown);
    assert_document_current("TRACKED_EVENTS.json", Format::Json);
}

#[tokio::test]
async fn the_document_is_served_in_three_forms() {
    let mut app = TestApp::new();
    let catalog = timetracker::transparency::catalog();

    let md = app.get("/telemetry/events.md").await;
    assert_eq!(md.status, StatusCode::OK);
    assert_eq!(md.text(), catalog.to_markdown());

    let json = app.get("/telemetry/events.json").await;
    assert_eq!(json.text(), catalog.to_json());
    assert_eq!(
        json.json()["schema"],
        serde_json::json!("telemetry-catalog/v1")
    );

    let html = app.get("/telemetry/events").await.text();
    assert!(html.contains(r#"id="catalog""#));
    assert!(html.contains("timer.started"));
}
