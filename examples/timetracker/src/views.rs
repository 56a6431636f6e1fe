//! The shared page layout, small HTML helpers and the stylesheet.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use maud::{DOCTYPE, Markup, html};

use crate::auth::{CSRF_FIELD, User};
use crate::state::AppState;

/// A rendered HTML page.
pub type Page = Html<String>;

const STYLESHEET: &str = include_str!("../static/style.css");

/// Renders `body` inside the layout. With a user and a CSRF token the navigation and the
/// logout button are shown.
pub fn page(title: &str, user: Option<&User>, csrf: Option<&str>, body: Markup) -> Page {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · TimeTracker" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header.topbar {
                    a.brand href="/" { "TimeTracker" }
                    @if let Some(user) = user {
                        nav {
                            a href="/" { "Timer" }
                            a href="/projects" { "Projects" }
                            a href="/clients" { "Clients" }
                            a href="/reports" { "Reports" }
                            @if user.is_admin {
                                a href="/admin/users" { "Users" }
                                a #nav-admin-settings href="/admin/settings" { "Settings" }
                                a #nav-admin-telemetry href="/admin/telemetry" { "Telemetry" }
                            }
                        }
                        @if let Some(csrf) = csrf {
                            form.inline #logout-form method="post" action="/logout" {
                                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                                span.muted { (user.username) " " }
                                button #logout type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main { (body) }
                footer {
                    a href="/telemetry/events" { "What this app's telemetry collects" }
                }
            }
        }
    };
    Html(markup.into_string())
}

/// A page for an error.
pub fn error_page(status: StatusCode, message: &str) -> Page {
    let reason = status.canonical_reason().unwrap_or("Error");
    page(
        reason,
        None,
        None,
        html! {
            h1 { (status.as_u16()) " " (reason) }
            p #error-message { (message) }
            p { a href="/" { "Back to the start page" } }
        },
    )
}

/// A hidden input carrying the CSRF token.
pub fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

/// Seconds as `h:mm:ss`.
pub fn hms(seconds: i64) -> String {
    let s = seconds.max(0);
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Routes: `/static/style.css`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/static/style.css", get(stylesheet))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hms_formats() {
        assert_eq!(super::hms(3725), "1:02:05");
        assert_eq!(super::hms(-4), "0:00:00");
    }
}
