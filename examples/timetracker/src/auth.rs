//! Users and who is asking: the account records, and the extractors that require a logged-in
//! user or an admin.
//!
//! Sessions and CSRF live in [`crate::session`], password hashing in [`crate::passwords`],
//! the login and logout flow in [`crate::login`]; their public items are re-exported here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::error::AppError;
use crate::state::AppState;

pub use crate::login::{login, logout};
pub use crate::passwords::{PasswordCost, hash_password, hash_password_async, verify_password};
pub use crate::session::{
    ANONYMOUS_CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, SessionStore,
    csrf_layer, random_token, session_layer,
};
use crate::session::{is_api, reject};

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

pub(crate) fn find_credentials(
    conn: &Connection,
    username: &str,
) -> Result<Option<(User, String)>, AppError> {
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
