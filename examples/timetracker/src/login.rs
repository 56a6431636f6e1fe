//! Login and logout: the pages, the JSON API, and the checks in between.

use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use serde::{Deserialize, Serialize};
use telemetry_core::{track, track_event};

use crate::auth::{CurrentUser, User, find_credentials, find_user};
use crate::error::{AppError, HtmlError};
use crate::login_throttle::ClientAddr;
use crate::models::{AuthMethod, LoginFailure};
use crate::passwords::decoy_hash;
use crate::session::{CSRF_FIELD, Session};
use crate::state::AppState;
use crate::views;

/// Checks the credentials and, when they are right, logs the session in.
///
/// Success sends `auth.login`, a refusal `auth.login_failed` with the reason only: the username
/// that was typed is never sent (the original app logged it).
///
/// A locked-out account or client (see [`crate::login_throttle`]) is refused before anything
/// is looked up. Otherwise the password is always checked with Argon2, against the account's
/// hash or, for an unknown username, a decoy hash with the same parameters; only then are a
/// disabled account and a wrong password told apart. So every refusal costs one Argon2 check
/// and its timing reveals neither which usernames exist nor which are disabled.
pub async fn login(
    state: &AppState,
    session: &Session,
    client: &ClientAddr,
    username: &str,
    password: String,
) -> Result<User, AppError> {
    let username = username.trim().to_owned();
    if username.is_empty() {
        return Err(login_refused(LoginFailure::EmptyUsername));
    }
    if let Err(wait) = state
        .login_throttle
        .check(&username, &client.0, Instant::now())
    {
        login_refused(LoginFailure::RateLimited);
        // Whole seconds, rounded up: never tell a client to come back too early.
        return Err(AppError::TooManyRequests(
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        ));
    }
    let lookup = username.clone();
    let found = state
        .db
        .call(move |conn| find_credentials(conn, &lookup))
        .await?;
    let checker = state.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, decoy_hash(checker.password_cost).to_owned()),
        };
        let password_ok = checker.verify_password(&password, &hash);
        match user {
            None => Err(LoginFailure::UserNotFound),
            Some(user) if !user.active => Err(LoginFailure::AccountDisabled),
            Some(_) if !password_ok => Err(LoginFailure::WrongPassword),
            Some(user) => Ok(user),
        }
    })
    .await?;
    let user = match checked {
        Ok(user) => user,
        Err(reason) => {
            state
                .login_throttle
                .failed(&username, &client.0, Instant::now());
            return Err(login_refused(reason));
        }
    };
    state.login_throttle.succeeded(&username);
    session.login(user.id);
    tracing::info!(user_id = user.id, "user logged in");
    track!(
        "auth.login",
        description = "A user logged in.",
        distinct_id = user.id,
        props(auth_method: AuthMethod = AuthMethod::Local)
    );
    Ok(user)
}

fn login_refused(reason: LoginFailure) -> AppError {
    tracing::info!(reason = reason.as_str(), "login refused");
    track!(
        "auth.login_failed",
        description = "A login attempt was refused. Only the reason is sent, never the username \
                       that was typed.",
        props(reason: LoginFailure = reason)
    );
    AppError::Unauthorized(match reason {
        LoginFailure::EmptyUsername => "enter your username".to_owned(),
        _ => "invalid username or password".to_owned(),
    })
}

/// A user logged out.
#[track_event("auth.logout", on = "success", distinct_id = user.id)]
pub async fn logout(session: &Session, user: &User) -> Result<(), AppError> {
    session.logout();
    tracing::info!(user_id = user.id, "user logged out");
    Ok(())
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The username.
    #[serde(default)]
    pub username: String,
    /// The password.
    #[serde(default)]
    pub password: String,
    /// Where to go after logging in (a local path).
    #[serde(default)]
    pub next: Option<String>,
}

/// Query string of the login page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    /// Where to go after logging in.
    pub next: Option<String>,
}

/// Only same-origin paths: never an open redirect.
///
/// Accepts `/` followed by anything that cannot turn into another origin: no second `/` or
/// `\\` at the start (`//evil.example`, `/\\evil` are protocol-relative to a browser), no
/// backslash anywhere, and no control characters or whitespace (browsers drop tabs and newlines
/// from URLs, so `/\t/evil.example` would become `//evil.example`). Everything else is `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    let Some(next) = next else { return "/" };
    let bytes = next.as_bytes();
    let same_origin = bytes.first() == Some(&b'/')
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !next
            .chars()
            .any(|c| c == '\\' || c.is_control() || c.is_whitespace());
    if same_origin { next } else { "/" }
}

fn login_page(
    session: &Session,
    next: Option<&str>,
    error: Option<&str>,
    username: &str,
) -> views::Page {
    let body = html! {
        h1 { "Log in" }
        @if let Some(error) = error {
            p.error #login-error role="alert" { (error) }
        }
        form #login-form method="post" action="/login" {
            input type="hidden" name=(CSRF_FIELD) value=(session.csrf_token());
            input type="hidden" name="next" value=(safe_next(next));
            label { "Username " input #username type="text" name="username" value=(username) autocomplete="username" required; }
            label { "Password " input #password type="password" name="password" autocomplete="current-password" required; }
            button #login-submit type="submit" { "Log in" }
        }
    };
    views::page("Log in", None, None, body)
}

async fn login_form_page(
    session: Session,
    Query(query): Query<NextQuery>,
) -> Result<Response, HtmlError> {
    if session.user_id().is_some() {
        return Ok(Redirect::to(safe_next(query.next.as_deref())).into_response());
    }
    Ok(login_page(&session, query.next.as_deref(), None, "").into_response())
}

async fn login_submit(
    State(state): State<AppState>,
    session: Session,
    client: ClientAddr,
    Form(form): Form<LoginForm>,
) -> Result<Response, HtmlError> {
    match login(&state, &session, &client, &form.username, form.password).await {
        Ok(_) => Ok(Redirect::to(safe_next(form.next.as_deref())).into_response()),
        Err(AppError::Unauthorized(message)) => {
            let page = login_page(
                &session,
                form.next.as_deref(),
                Some(&message),
                &form.username,
            );
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout_submit(
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<Redirect, HtmlError> {
    logout(&session, &user).await?;
    Ok(Redirect::to("/login"))
}

/// The JSON login body.
#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    /// The username.
    #[serde(default)]
    pub username: String,
    /// The password.
    #[serde(default)]
    pub password: String,
}

/// What `GET /api/session` and `POST /api/login` return.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    /// Whether a user is logged in.
    pub authenticated: bool,
    /// The user, if logged in.
    pub user: Option<User>,
    /// The token to send as `X-CSRF-Token` on state-changing requests.
    pub csrf_token: String,
}

async fn api_login(
    State(state): State<AppState>,
    session: Session,
    client: ClientAddr,
    Json(body): Json<LoginRequest>,
) -> Result<Json<SessionInfo>, AppError> {
    let user = login(&state, &session, &client, &body.username, body.password).await?;
    Ok(Json(SessionInfo {
        authenticated: true,
        user: Some(user),
        csrf_token: session.csrf_token(),
    }))
}

async fn api_logout(
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<StatusCode, AppError> {
    logout(&session, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn api_session(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<SessionInfo>, AppError> {
    let user = match session.user_id() {
        Some(id) => state.db.call(move |conn| find_user(conn, id)).await?,
        None => None,
    };
    Ok(Json(SessionInfo {
        authenticated: user.is_some(),
        user,
        csrf_token: session.csrf_token(),
    }))
}

/// Routes: `/login`, `/logout`, `/api/login`, `/api/logout`, `/api/session`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form_page).post(login_submit))
        .route("/logout", post(logout_submit))
        .route("/api/login", post(api_login))
        .route("/api/logout", post(api_logout))
        .route("/api/session", get(api_session))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_same_origin_only() {
        assert_eq!(safe_next(Some("/projects")), "/projects");
        assert_eq!(
            safe_next(Some("/projects/7?tab=tasks")),
            "/projects/7?tab=tasks"
        );
        assert_eq!(safe_next(None), "/");
        for evil in [
            "//evil.example",
            "/\\evil",
            "/\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ /evil.example",
            "/x\\..\\..\\evil",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
    }
}
