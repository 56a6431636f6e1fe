//! The one error type of every action and handler.
//!
//! Actions return `Result<_, AppError>`, so `#[track_event(.., on = "success")]` captures only
//! when the action succeeded. As a response an [`AppError`] is JSON (`{"error", "message"}`);
//! HTML handlers wrap it in [`HtmlError`] to render an error page instead.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Why an action failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// The input is well-formed but not acceptable (422).
    Validation(String),
    /// The record does not exist (404); the payload names what was looked up.
    NotFound(&'static str),
    /// The action conflicts with the current state (409), e.g. a timer is already running.
    Conflict(String),
    /// Not logged in, or the credentials are wrong (401).
    Unauthorized(String),
    /// Too many failed logins for an account or from a client (429); retry after this many
    /// seconds.
    TooManyRequests(u64),
    /// Logged in but not allowed (403).
    Forbidden,
    /// The CSRF token is missing or does not match the session (403).
    Csrf,
    /// The first-run setup has not been completed (503 for the API; pages redirect instead).
    SetupRequired,
    /// Something broke on our side (500). The detail is logged, never shown.
    Internal(String),
}

impl AppError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::SetupRequired => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::TooManyRequests(_) => "too_many_attempts",
            AppError::Forbidden => "forbidden",
            AppError::Csrf => "csrf_token_invalid",
            AppError::SetupRequired => "setup_required",
            AppError::Internal(_) => "internal_error",
        }
    }

    /// A message that is safe to show to the user.
    pub fn message(&self) -> String {
        match self {
            AppError::Validation(m) | AppError::Conflict(m) | AppError::Unauthorized(m) => {
                m.clone()
            }
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::TooManyRequests(seconds) => {
                format!("too many failed logins; try again in {seconds} s")
            }
            AppError::Forbidden => "you are not allowed to do this".to_owned(),
            AppError::Csrf => {
                "the form has expired or the CSRF token is missing; reload the page".to_owned()
            }
            AppError::SetupRequired => "complete the first-run setup at /setup first".to_owned(),
            AppError::Internal(_) => "internal error".to_owned(),
        }
    }

    /// Shorthand for [`AppError::Validation`].
    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::Validation(message.into())
    }

    /// The `Retry-After` header this error calls for, if any.
    fn retry_after(&self) -> Option<(axum::http::HeaderName, String)> {
        match self {
            AppError::TooManyRequests(seconds) => {
                Some((axum::http::header::RETRY_AFTER, seconds.to_string()))
            }
            _ => None,
        }
    }

    fn log(&self) {
        if let AppError::Internal(detail) = self {
            tracing::error!(error = %detail, "internal error");
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for AppError {}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> AppError {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> AppError {
        AppError::Internal(format!("background task: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let body = json!({ "error": self.code(), "message": self.message() });
        let mut response = (self.status(), Json(body)).into_response();
        add_retry_after(&self, &mut response);
        response
    }
}

/// An [`AppError`] rendered as an HTML page, for the server-rendered pages.
#[derive(Debug)]
pub struct HtmlError(pub AppError);

impl From<AppError> for HtmlError {
    fn from(e: AppError) -> HtmlError {
        HtmlError(e)
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let page = crate::views::error_page(status, &self.0.message());
        let mut response = (status, page).into_response();
        add_retry_after(&self.0, &mut response);
        response
    }
}

fn add_retry_after(error: &AppError, response: &mut Response) {
    if let Some((name, value)) = error.retry_after()
        && let Ok(value) = axum::http::HeaderValue::from_str(&value)
    {
        response.headers_mut().insert(name, value);
    }
}
