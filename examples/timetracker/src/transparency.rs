//! The transparency document: every event this app can send, generated from the catalog.
//!
//! `/telemetry/events` (HTML), `/telemetry/events.md` and `/telemetry/events.json` serve the
//! same content as `cargo run -p timetracker -- --telemetry-catalog=md|json` and the committed
//! `TRACKED_EVENTS.md` / `TRACKED_EVENTS.json`. Reachable before setup and without login, so
//! anyone can read what would be collected before opting in.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use telemetry_core::Catalog;

use crate::state::AppState;
use crate::views;

/// The catalog of this binary, named after this package.
pub fn catalog() -> Catalog {
    telemetry_core::catalog().with_app(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
}

/// The catalog as an HTML table plus the exact Markdown document.
pub fn catalog_section(catalog: &Catalog) -> Markup {
    html! {
        section #catalog {
            h2 { "Every event this app can send" }
            p.muted { "Generated from the code at build time. Nothing outside this list is ever sent. "
                "Each event also carries the automatic properties listed in the document below." }
            table #catalog-table {
                thead { tr { th { "Event" } th { "What it means" } th { "When" } th { "Properties" } } }
                tbody {
                    @for event in catalog.entries() {
                        tr data-event=(event.name) {
                            td { code { (event.name) } }
                            td {
                                (event.description)
                                @if event.has_distinct_id {
                                    br; span.muted { "Linked to the user only as a salted hash of their number." }
                                }
                            }
                            td { (event.trigger.describe()) }
                            td {
                                @if event.props.is_empty() {
                                    span.muted { "none" }
                                }
                                ul {
                                    @for prop in event.props {
                                        li {
                                            code { (prop.name) } " "
                                            span.muted { (prop.kind.as_str()) ", " (prop.classification.as_str()) }
                                            @if !prop.variants.is_empty() {
                                                " (" (prop.variants.join(", ")) ")"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            details #catalog-document {
                summary { "The transparency document (Markdown)" }
                pre #catalog-markdown { (catalog.to_markdown()) }
            }
        }
    }
}

async fn document_html() -> views::Page {
    let catalog = catalog();
    views::page(
        "Tracked events",
        None,
        None,
        html! {
            h1 { "What this app's telemetry collects" }
            p { "Telemetry is off unless an administrator turns it on. "
                "Also available as " a href="/telemetry/events.md" { "Markdown" } " and "
                a href="/telemetry/events.json" { "JSON" } "." }
            (catalog_section(&catalog))
        },
    )
}

async fn document_markdown() -> Response {
    (
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        catalog().to_markdown(),
    )
        .into_response()
}

async fn document_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        catalog().to_json(),
    )
        .into_response()
}

/// Routes: `/telemetry/events`, `/telemetry/events.md`, `/telemetry/events.json`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/telemetry/events", get(document_html))
        .route("/telemetry/events.md", get(document_markdown))
        .route("/telemetry/events.json", get(document_json))
}
