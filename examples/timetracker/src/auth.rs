//! Users, passwords, cookie sessions, CSRF protection, login and logout.
//!
//! Sessions are a random 256-bit id in an `HttpOnly; SameSite=Lax` cookie, mapped in memory to
//! the user and a per-session CSRF token. Every state-changing request (POST, PUT, PATCH,
//! DELETE) must carry that token, as the `csrf_token` form field or the `X-CSRF-Token` header;
//! the JSON API gets it from `GET /api/session`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::{track, track_event};

use crate::error::{AppError, HtmlError};
use crate::models::{AuthMethod, LoginFailure};
use crate::state::AppState;
use crate::views;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tt_session";
/// The form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header that carries the CSRF token (JSON API).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session unused for this long is forgotten.
const IDLE_TIMEOUT: Duration = Duration::from_secs(12 * 60 * 60);
/// At most this many sessions are kept; the least recently used go first.
const MAX_SESSIONS: usize = 10_000;
/// The largest form body the CSRF check buffers.
const MAX_FORM_BYTES: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Users and passwords

/// An account of this app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The record id.
    pub id: i64,
    /// The login name (never sent as telemetry).
    pub username: String,
    /// Whether the user may open the admin pages.
    pub is_admin: bool,
    /// Deactivated users cannot log in.
    pub active: bool,
}

const USER_COLUMNS: &str = "id, username, is_admin, active";

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        is_admin: row.get(2)?,
        active: row.get(3)?,
    })
}

/// Loads a user by id.
pub fn find_user(conn: &Connection, id: i64) -> Result<Option<User>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], user_from_row).optional()?)
}

/// Lists all users by name.
pub fn list_users(conn: &Connection) -> Result<Vec<User>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    let mut stmt = conn.prepare(&sql)?;
    let users = stmt
        .query_map([], user_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

fn find_credentials(conn: &Connection, username: &str) -> Result<Option<(User, String)>, AppError> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1");
    Ok(conn
        .query_row(&sql, [username], |row| {
            Ok((user_from_row(row)?, row.get::<_, String>(4)?))
        })
        .optional()?)
}

/// Validates a new account's username and password.
pub fn validate_credentials(username: &str, password: &str) -> Result<(), AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::invalid("the username is required"));
    }
    if username.chars().count() > 64 || username.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "the username must be at most 64 printable characters",
        ));
    }
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "the password must be at least 8 characters long",
        ));
    }
    Ok(())
}

/// Inserts a user with an already hashed password (see [`hash_password_async`]).
pub fn insert_user(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<User, AppError> {
    let username = username.trim();
    let taken: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1)",
        [username],
        |row| row.get(0),
    )?;
    if taken {
        return Err(AppError::Conflict("that username is taken".to_owned()));
    }
    conn.execute(
        "INSERT INTO users (username, password_hash, is_admin, active, created_at)
         VALUES (?1, ?2, ?3, 1, ?4)",
        params![username, password_hash, is_admin, crate::db::now()],
    )?;
    Ok(User {
        id: conn.last_insert_rowid(),
        username: username.to_owned(),
        is_admin,
        active: true,
    })
}

/// How expensive password hashing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCost {
    /// Argon2id with the OWASP-recommended parameters (19 MiB, 2 passes).
    Recommended,
    /// Argon2id with the smallest parameters: only for tests, where speed matters.
    Minimal,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        match self {
            PasswordCost::Recommended => Argon2::default(),
            PasswordCost::Minimal => Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or(Params::DEFAULT),
            ),
        }
    }
}

/// Hashes a password into a PHC string (random salt). CPU-heavy: call on the blocking pool.
pub fn hash_password(cost: PasswordCost, password: &str) -> Result<String, AppError> {
    cost.hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// Checks a password against a PHC string (its own parameters apply). CPU-heavy.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// [`hash_password`] on the blocking pool, outside the database lock.
pub async fn hash_password_async(cost: PasswordCost, password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(cost, &password)).await?
}

/// A hash of nothing in particular, checked when the username does not exist so that a refusal
/// takes as long either way and does not reveal which usernames exist.
fn decoy_hash(cost: PasswordCost) -> &'static str {
    static RECOMMENDED: OnceLock<String> = OnceLock::new();
    static MINIMAL: OnceLock<String> = OnceLock::new();
    let cell = match cost {
        PasswordCost::Recommended => &RECOMMENDED,
        PasswordCost::Minimal => &MINIMAL,
    };
    cell.get_or_init(|| hash_password(cost, "decoy password").unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// Sessions

struct SessionData {
    user_id: Option<i64>,
    csrf: String,
    last_seen: Instant,
}

/// The in-memory session table.
#[derive(Default)]
pub struct SessionStore {
    map: Mutex<HashMap<String, SessionData>>,
}

impl SessionStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionData>> {
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Looks a session up, refreshing its idle timer.
    fn get(&self, id: &str) -> Option<(Option<i64>, String)> {
        let mut map = self.lock();
        let data = map.get_mut(id)?;
        if data.last_seen.elapsed() > IDLE_TIMEOUT {
            map.remove(id);
            return None;
        }
        data.last_seen = Instant::now();
        Some((data.user_id, data.csrf.clone()))
    }

    /// Creates a session; returns its id and CSRF token.
    fn create(&self, user_id: Option<i64>) -> (String, String) {
        let id = random_token();
        let csrf = random_token();
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, data| data.last_seen.elapsed() <= IDLE_TIMEOUT);
            if map.len() >= MAX_SESSIONS {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, data)| data.last_seen)
                    .map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        map.insert(
            id.clone(),
            SessionData {
                user_id,
                csrf: csrf.clone(),
                last_seen: Instant::now(),
            },
        );
        (id, csrf)
    }

    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Ends every session of a user (after deactivation).
    pub fn end_sessions_of(&self, user_id: i64) {
        self.lock().retain(|_, data| data.user_id != Some(user_id));
    }

    /// How many sessions exist.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session exists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 32 random bytes as 64 hex characters.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: refuse to hand out guessable tokens.
        panic!("the operating system's random number generator is unavailable");
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Default)]
enum CookieChange {
    #[default]
    Keep,
    Set(String),
    Clear,
}

#[derive(Default)]
struct Slot {
    id: Option<String>,
    user_id: Option<i64>,
    csrf: Option<String>,
    cookie: CookieChange,
}

/// The current request's session, created lazily when a CSRF token is first needed.
#[derive(Clone)]
pub struct Session {
    state: AppState,
    slot: Arc<Mutex<Slot>>,
}

impl Session {
    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The logged-in user's id, if any.
    pub fn user_id(&self) -> Option<i64> {
        self.slot().user_id
    }

    /// The session's CSRF token, creating an anonymous session when there is none.
    pub fn csrf_token(&self) -> String {
        let mut slot = self.slot();
        if let Some(csrf) = &slot.csrf {
            return csrf.clone();
        }
        let (id, csrf) = self.state.sessions.create(None);
        slot.id = Some(id.clone());
        slot.csrf = Some(csrf.clone());
        slot.cookie = CookieChange::Set(id);
        csrf
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_matches(&self, token: &str) -> bool {
        self.slot()
            .csrf
            .as_deref()
            .is_some_and(|csrf| constant_time_eq(csrf, token))
    }

    /// Logs `user_id` in under a fresh session id (no session fixation).
    pub fn login(&self, user_id: i64) {
        let mut slot = self.slot();
        if let Some(old) = slot.id.take() {
            self.state.sessions.remove(&old);
        }
        let (id, csrf) = self.state.sessions.create(Some(user_id));
        *slot = Slot {
            id: Some(id.clone()),
            user_id: Some(user_id),
            csrf: Some(csrf),
            cookie: CookieChange::Set(id),
        };
    }

    /// Ends the session and clears the cookie.
    pub fn logout(&self) {
        let mut slot = self.slot();
        if let Some(old) = slot.id.take() {
            self.state.sessions.remove(&old);
        }
        *slot = Slot {
            cookie: CookieChange::Clear,
            ..Slot::default()
        };
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Session, AppError> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::Internal("the session layer is not installed".to_owned()))
    }
}

fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Middleware: attaches the [`Session`] and writes the cookie back when it changed.
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut slot = Slot::default();
    if let Some(id) = session_cookie(req.headers())
        && let Some((user_id, csrf)) = state.sessions.get(&id)
    {
        slot.id = Some(id);
        slot.user_id = user_id;
        slot.csrf = Some(csrf);
    }
    let session = Session {
        state,
        slot: Arc::new(Mutex::new(slot)),
    };
    req.extensions_mut().insert(session.clone());
    let mut response = next.run(req).await;
    let change = std::mem::take(&mut session.slot().cookie);
    let cookie = match change {
        CookieChange::Keep => None,
        CookieChange::Set(id) => Some(format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax"
        )),
        CookieChange::Clear => Some(format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        )),
    };
    if let Some(value) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn reject(path: &str, error: AppError) -> Response {
    if is_api(path) {
        error.into_response()
    } else {
        HtmlError(error).into_response()
    }
}

/// Middleware: refuses state-changing requests without the session's CSRF token.
pub async fn csrf_layer(req: Request, next: Next) -> Response {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return reject(&path, AppError::Csrf);
    };
    if let Some(token) = req.headers().get(CSRF_HEADER) {
        let ok = token.to_str().is_ok_and(|t| session.csrf_matches(t));
        return if ok {
            next.run(req).await
        } else {
            reject(&path, AppError::Csrf)
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return reject(&path, AppError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return reject(&path, AppError::invalid("the form is too large"));
    };
    let token = bytes
        .split(|b| *b == b'&')
        .filter_map(|pair| {
            let eq = pair.iter().position(|b| *b == b'=')?;
            (&pair[..eq] == CSRF_FIELD.as_bytes()).then(|| &pair[eq + 1..])
        })
        .next()
        .and_then(|t| std::str::from_utf8(t).ok());
    if !token.is_some_and(|t| session.csrf_matches(t)) {
        return reject(&path, AppError::Csrf);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

// ---------------------------------------------------------------------------------------------
// Extractors

async fn load_user(parts: &Parts, state: &AppState) -> Result<User, Response> {
    let path = parts.uri.path();
    let session = parts.extensions.get::<Session>().cloned();
    let user_id = session.as_ref().and_then(Session::user_id);
    let unauthenticated = || {
        if is_api(path) {
            AppError::Unauthorized("log in first".to_owned()).into_response()
        } else {
            Redirect::to(&format!("/login?next={path}")).into_response()
        }
    };
    let Some(user_id) = user_id else {
        return Err(unauthenticated());
    };
    let user = state
        .db
        .call(move |conn| find_user(conn, user_id))
        .await
        .map_err(|e| reject(path, e))?;
    match user {
        Some(user) if user.active => Ok(user),
        _ => {
            if let Some(session) = session {
                session.logout();
            }
            Err(unauthenticated())
        }
    }
}

/// A logged-in, active user. Anonymous requests get 401 (API) or a redirect to `/login`.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        load_user(parts, state).await.map(CurrentUser)
    }
}

/// A logged-in admin. Anonymous requests as for [`CurrentUser`]; other users get 403.
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let user = load_user(parts, state).await?;
        if user.is_admin {
            Ok(AdminUser(user))
        } else {
            Err(reject(parts.uri.path(), AppError::Forbidden))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Login and logout

/// Checks the credentials and, when they are right, logs the session in.
///
/// Success sends `auth.login`, a refusal `auth.login_failed` with the reason only: the username
/// that was typed is never sent (the original app logged it).
pub async fn login(
    state: &AppState,
    session: &Session,
    username: &str,
    password: String,
) -> Result<User, AppError> {
    let username = username.trim().to_owned();
    if username.is_empty() {
        return Err(login_refused(LoginFailure::EmptyUsername));
    }
    let found = state
        .db
        .call(move |conn| find_credentials(conn, &username))
        .await?;
    let cost = state.password_cost;
    let checked = tokio::task::spawn_blocking(move || {
        let Some((user, hash)) = found else {
            // Same work as a real check: timing does not reveal whether the user exists.
            verify_password(&password, decoy_hash(cost));
            return Err(LoginFailure::UserNotFound);
        };
        if !user.active {
            return Err(LoginFailure::AccountDisabled);
        }
        if !verify_password(&password, &hash) {
            return Err(LoginFailure::WrongPassword);
        }
        Ok(user)
    })
    .await?;
    let user = checked.map_err(login_refused)?;
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

/// Only local paths: never an open redirect.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
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
    Form(form): Form<LoginForm>,
) -> Result<Response, HtmlError> {
    match login(&state, &session, &form.username, form.password).await {
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
    Json(body): Json<LoginRequest>,
) -> Result<Json<SessionInfo>, AppError> {
    let user = login(&state, &session, &body.username, body.password).await?;
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
    fn passwords_hash_and_verify() {
        let hash = hash_password(PasswordCost::Minimal, "correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/projects")), "/projects");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }
}
