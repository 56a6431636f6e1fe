//! TimeTracker: the flagship example of `telemetry-core`, a small time-tracking web app.
//!
//! Clients, projects, tasks, comments, a start/stop timer, a summary report and a CSV export,
//! served as HTML pages (maud, no JavaScript) and a JSON API (axum), stored in SQLite. Every
//! product event is declared with `#[track_event]` or `track!` next to the code it describes;
//! the catalog of them is served at `/telemetry/events` and on `/admin/telemetry`, where an
//! admin can turn telemetry on and off. Nothing is sent until someone opts in on `/setup` or
//! on that page.
//!
//! ```no_run
//! use timetracker::{AppState, Config, Database};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let telemetry = timetracker::telemetry_setup::install(std::path::Path::new("data"));
//! let state = AppState::new(Config::new(Database::File("data/tt.sqlite3".into()), telemetry))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, timetracker::app(state)).await?;
//! # Ok(()) }
//! ```
//!
//! One concern per module: [`auth`] (users and the extractors), [`session`] (cookies, CSRF),
//! [`passwords`], [`login`], [`login_throttle`], [`setup`], [`admin`] (telemetry page),
//! [`settings`], [`users`], [`clients`], [`projects`], [`project_changes`], [`tasks`],
//! [`comments`], [`timer`], [`reports`], [`transparency`], [`metrics`], [`logging`],
//! [`security_headers`], [`db`], [`views`].

#![warn(missing_docs)]

pub mod admin;
pub mod auth;
pub mod clients;
pub mod comments;
pub mod db;
pub mod error;
pub mod forms;
pub mod logging;
pub mod login;
pub mod login_throttle;
pub mod metrics;
pub mod models;
pub mod passwords;
pub mod project_changes;
pub mod projects;
pub mod reports;
pub mod security_headers;
pub mod session;
pub mod settings;
pub mod setup;
pub mod state;
pub mod tasks;
pub mod telemetry_setup;
pub mod timer;
pub mod transparency;
pub mod users;
pub mod views;

use axum::Router;
use axum::http::Uri;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};

pub use db::Database;
pub use error::AppError;
pub use state::{AppState, Config};

/// The whole application as a router, ready for `axum::serve` or `tower::ServiceExt::oneshot`.
///
/// Middleware, outermost first: request id and JSON request log, security headers, Prometheus
/// request metrics, session cookie, the setup gate, the CSRF check.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(timer::routes())
        .merge(login::routes())
        .merge(setup::routes())
        .merge(admin::routes())
        .merge(settings::routes())
        .merge(users::routes())
        .merge(clients::routes())
        .merge(projects::routes())
        .merge(project_changes::routes())
        .merge(tasks::routes())
        .merge(comments::routes())
        .merge(reports::routes())
        .merge(transparency::routes())
        .merge(metrics::routes())
        .merge(views::routes())
        .fallback(not_found)
        .layer(from_fn(auth::csrf_layer))
        .layer(from_fn_with_state(state.clone(), setup::require_setup))
        .layer(from_fn_with_state(state.clone(), auth::session_layer))
        .layer(from_fn_with_state(state.clone(), metrics::track_requests))
        .layer(from_fn(security_headers::security_headers))
        .layer(from_fn(logging::request_id))
        .with_state(state)
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        AppError::NotFound("route").into_response()
    } else {
        error::HtmlError(AppError::NotFound("page")).into_response()
    }
}
