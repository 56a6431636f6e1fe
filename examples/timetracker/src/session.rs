//! Cookie sessions and CSRF protection.
//!
//! A logged-in session is a random 256-bit id in an `HttpOnly; SameSite=Lax` cookie, mapped in
//! memory to the user and a per-session CSRF token. Anonymous visitors get no server-side
//! session at all: the forms they can submit (setup, login) are protected by a double-submit
//! token, a random value in a second cookie (`tt_csrf`) that the form must echo. So a crawler or
//! an attacker hammering `GET /login` cannot fill the session table.
//!
//! Every state-changing request (POST, PUT, PATCH, DELETE) must carry the token, as the
//! `csrf_token` form field or the `X-CSRF-Token` header; the JSON API gets it from
//! `GET /api/session`. With `Config::secure_cookies` (behind TLS) both cookies get `Secure`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{AppError, HtmlError};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "tt_session";
/// The cookie that carries an anonymous visitor's CSRF token (double submit).
pub const ANONYMOUS_CSRF_COOKIE: &str = "tt_csrf";
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
    pub(crate) fn get(&self, id: &str) -> Option<(Option<i64>, String)> {
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
    pub(crate) fn create(&self, user_id: Option<i64>) -> (String, String) {
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

    pub(crate) fn remove(&self, id: &str) {
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
    /// The server-side session, when logged in.
    id: Option<String>,
    user_id: Option<i64>,
    csrf: Option<String>,
    cookie: CookieChange,
    /// An anonymous visitor's token, from the `tt_csrf` cookie or made for this response.
    anonymous_csrf: Option<String>,
    set_anonymous_cookie: bool,
}

/// The current request's session: a logged-in user's, or an anonymous visitor's cookie token.
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

    /// The CSRF token to put in a form: the session's, or for an anonymous visitor the value
    /// of their `tt_csrf` cookie (set on this response when they have none). Never creates a
    /// server-side session.
    pub fn csrf_token(&self) -> String {
        let mut slot = self.slot();
        if let Some(csrf) = &slot.csrf {
            return csrf.clone();
        }
        if let Some(csrf) = &slot.anonymous_csrf {
            return csrf.clone();
        }
        let csrf = random_token();
        slot.anonymous_csrf = Some(csrf.clone());
        slot.set_anonymous_cookie = true;
        csrf
    }

    /// Whether `token` is this session's CSRF token (for an anonymous visitor: the token in the
    /// cookie they sent).
    pub fn csrf_matches(&self, token: &str) -> bool {
        let slot = self.slot();
        let expected = match (&slot.csrf, &slot.anonymous_csrf) {
            (Some(csrf), _) => csrf,
            (None, Some(csrf)) if !slot.set_anonymous_cookie => csrf,
            _ => return false,
        };
        constant_time_eq(expected, token)
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
            ..Slot::default()
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

/// The value of cookie `name`, if the request sent it.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `name=value` with this app's cookie attributes (`Secure` when behind TLS).
fn set_cookie(name: &str, value: &str, secure: bool, clear: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        cookie.push_str("; Secure");
    }
    if clear {
        cookie.push_str("; Max-Age=0");
    }
    cookie
}

/// Middleware: attaches the [`Session`] and writes the cookies back when they changed.
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut slot = Slot::default();
    if let Some(id) = cookie(req.headers(), SESSION_COOKIE)
        && let Some((user_id, csrf)) = state.sessions.get(id)
    {
        slot.id = Some(id.to_owned());
        slot.user_id = user_id;
        slot.csrf = Some(csrf);
    }
    slot.anonymous_csrf = cookie(req.headers(), ANONYMOUS_CSRF_COOKIE)
        .filter(|value| is_token(value))
        .map(str::to_owned);
    let secure = state.secure_cookies;
    let session = Session {
        state,
        slot: Arc::new(Mutex::new(slot)),
    };
    req.extensions_mut().insert(session.clone());
    let mut response = next.run(req).await;
    let mut slot = session.slot();
    let mut cookies = Vec::new();
    match std::mem::take(&mut slot.cookie) {
        CookieChange::Keep => {}
        CookieChange::Set(id) => cookies.push(set_cookie(SESSION_COOKIE, &id, secure, false)),
        CookieChange::Clear => cookies.push(set_cookie(SESSION_COOKIE, "", secure, true)),
    }
    if slot.set_anonymous_cookie
        && let Some(csrf) = &slot.anonymous_csrf
    {
        cookies.push(set_cookie(ANONYMOUS_CSRF_COOKIE, csrf, secure, false));
    }
    for value in cookies {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

pub(crate) fn reject(path: &str, error: AppError) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(is_token(&a));
        assert!(!is_token("not-a-token"));
        assert_ne!(a, b);
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
    }

    #[test]
    fn cookies_are_secure_only_when_asked() {
        assert_eq!(
            set_cookie("a", "b", false, false),
            "a=b; Path=/; HttpOnly; SameSite=Lax"
        );
        assert!(set_cookie("a", "b", true, false).ends_with("; Secure"));
        assert!(set_cookie("a", "", true, true).ends_with("; Secure; Max-Age=0"));
    }
}
