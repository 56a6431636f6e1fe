//! First-run setup: the opt-in page and the gate that sends every page there until it is done.
//!
//! Completion is stored in the app's own database (`settings.setup_complete`), never in the
//! telemetry state, so toggling telemetry or changing any other setting later can never send the
//! admin back here (the original app's bug #436).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::html;
use rusqlite::Connection;
use serde::Deserialize;
use telemetry_core::track;

use crate::auth::{self, Session, User};
use crate::db;
use crate::error::{AppError, HtmlError};
use crate::state::AppState;
use crate::telemetry_setup;
use crate::views;

const SETUP_COMPLETE: &str = "setup_complete";
const SETUP_COMPLETED_AT: &str = "setup_completed_at";

/// Whether setup has been completed, from the database.
pub fn is_complete(conn: &Connection) -> Result<bool, AppError> {
    Ok(db::get_setting(conn, SETUP_COMPLETE)?.as_deref() == Some("true"))
}

/// Paths reachable before setup: the setup page itself, static files, health, metrics, the
/// login page, and the transparency document the setup page links to.
pub fn is_exempt(path: &str) -> bool {
    matches!(path, "/setup" | "/health" | "/metrics" | "/login")
        || path.starts_with("/static/")
        || path.starts_with("/telemetry/events")
}

/// Middleware: until setup is complete, pages redirect to `/setup` and the API answers 503.
pub async fn require_setup(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if state.setup_complete() || is_exempt(path) {
        return next.run(req).await;
    }
    if path.starts_with("/api/") {
        AppError::SetupRequired.into_response()
    } else {
        Redirect::to("/setup").into_response()
    }
}

/// What the setup form submits.
#[derive(Debug, Clone, Deserialize)]
pub struct SetupForm {
    /// The admin's username.
    #[serde(default)]
    pub username: String,
    /// The admin's password.
    #[serde(default)]
    pub password: String,
    /// Present (`on`) when the telemetry box was ticked; absent otherwise.
    #[serde(default)]
    pub telemetry_enabled: Option<String>,
}

impl SetupForm {
    /// Whether the box was ticked.
    pub fn telemetry_enabled(&self) -> bool {
        self.telemetry_enabled
            .as_deref()
            .is_some_and(|v| matches!(v, "on" | "true" | "1" | "yes"))
    }
}

/// Creates the admin account and marks setup complete in one transaction, then stores the
/// telemetry consent through the toolkit.
///
/// `setup.completed` is captured with `track!` after the consent took effect, so it is sent
/// exactly when the admin opted in (an attribute would check the switch on entry, while
/// telemetry was still off).
pub async fn complete_setup(
    state: &AppState,
    username: String,
    password: String,
    telemetry_enabled: bool,
) -> Result<User, AppError> {
    auth::validate_credentials(&username, &password)?;
    let hash = auth::hash_password_async(state.password_cost, password).await?;
    let user = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if is_complete(&tx)? {
                return Err(AppError::Conflict(
                    "setup has already been completed".to_owned(),
                ));
            }
            let user = auth::insert_user(&tx, &username, &hash, true)?;
            db::set_setting(&tx, SETUP_COMPLETE, "true")?;
            db::set_setting(&tx, SETUP_COMPLETED_AT, &db::now())?;
            tx.commit()?;
            Ok(user)
        })
        .await?;
    state.mark_setup_complete();
    telemetry_setup::set_consent(&state.telemetry, telemetry_enabled);
    tracing::info!(user_id = user.id, telemetry_enabled, "setup completed");
    track!(
        "setup.completed",
        description = "The first-run setup was completed. Captured after the telemetry choice \
                       took effect, so it only leaves the machine when the admin opted in.",
        props(telemetry_enabled: bool = telemetry_enabled)
    );
    Ok(user)
}

fn setup_page(session: &Session, error: Option<&str>, username: &str) -> views::Page {
    let body = html! {
        h1 { "Welcome to TimeTracker" }
        p { "Create the administrator account and decide whether to share anonymous usage data. "
            "You can change the telemetry choice at any time on the admin telemetry page." }
        @if let Some(error) = error {
            p.error #setup-error role="alert" { (error) }
        }
        form #setup-form method="post" action="/setup" {
            (views::csrf_input(&session.csrf_token()))
            section {
                h2 { "Administrator account" }
                label { "Username " input #setup-username type="text" name="username" value=(username) autocomplete="username" required; }
                label { "Password (at least 8 characters) " input #setup-password type="password" name="password" autocomplete="new-password" minlength="8" required; }
            }
            section #privacy {
                h2 { "Privacy first" }
                p { "Telemetry is " strong { "off" } " unless you turn it on here. When on, this app sends "
                    "a small, fixed set of product events (for example “a timer was stopped”, with its "
                    "duration) so its makers can see which features are used." }
                details open {
                    summary { "What is and is not collected" }
                    h3 { "Collected, only when enabled" }
                    ul {
                        li { "The names of the actions listed in the transparency document, and when they happened." }
                        li { "Record numbers (such as a project's id), counts, durations, yes/no flags and fixed categories such as a task's status." }
                        li { "An anonymous install fingerprint (a salted hash) and, for actions of a logged-in user, a salted hash of the user's number." }
                        li { "The app version, and in the lifecycle events the operating system family, CPU architecture, Rust version and how the app is deployed." }
                    }
                    h3 { "Never collected" }
                    ul {
                        li { "Usernames, passwords, e-mail addresses or any other personal data." }
                        li { "Project, client or task names, descriptions, comments or timer notes." }
                        li { "IP addresses (PostHog is told not to record or geolocate them) or location." }
                    }
                    p { "Without a PostHog key, events are only written to " code { "logs/telemetry.jsonl" } " on this machine." }
                }
                p { a #transparency-link href="/telemetry/events" target="_blank" { "Read the full list of events and their properties" } }
                label #telemetry-choice {
                    input #telemetry-enabled type="checkbox" name="telemetry_enabled" value="on";
                    " Enable anonymous telemetry"
                }
            }
            button #setup-submit type="submit" { "Complete setup & continue" }
        }
    };
    views::page("Setup", None, None, body)
}

async fn setup_form(State(state): State<AppState>, session: Session) -> Response {
    if state.setup_complete() {
        return Redirect::to("/").into_response();
    }
    setup_page(&session, None, "").into_response()
}

async fn setup_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response, HtmlError> {
    let enabled = form.telemetry_enabled();
    match complete_setup(&state, form.username.clone(), form.password, enabled).await {
        Ok(user) => {
            session.login(user.id);
            Ok(Redirect::to("/").into_response())
        }
        Err(AppError::Validation(message)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            setup_page(&session, Some(&message), &form.username),
        )
            .into_response()),
        Err(AppError::Conflict(_)) => Ok(Redirect::to("/login").into_response()),
        Err(e) => Err(e.into()),
    }
}

/// Routes: `/setup`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/setup", get(setup_form).post(setup_submit))
}
