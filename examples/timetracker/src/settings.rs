//! The app's settings page for admins: currency, first day of the week, report rounding.
//!
//! Stored as rows of the `settings` table; a missing or unreadable row falls back to its
//! default, so an older database or a hand-edited value never breaks a page.

use axum::extract::State;
use axum::response::Redirect;
use axum::routing::get;
use axum::{Form, Json, Router};
use maud::html;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use telemetry_core::track;

use crate::auth::{AdminUser, Session, User};
use crate::db;
use crate::error::{AppError, HtmlError};
use crate::models::{Currency, Rounding, WeekStart};
use crate::state::AppState;
use crate::views;

const CURRENCY: &str = "currency";
const WEEK_START: &str = "week_start";
const ROUNDING: &str = "rounding";

/// The app-wide settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppSettings {
    /// The currency report amounts are shown in.
    pub currency: Currency,
    /// The first day of a week, for the weekly report ranges.
    pub week_start: WeekStart,
    /// How the report rounds each project's time up.
    pub rounding: Rounding,
}

impl Default for AppSettings {
    fn default() -> AppSettings {
        AppSettings {
            currency: Currency::Eur,
            week_start: WeekStart::Monday,
            rounding: Rounding::None,
        }
    }
}

/// Reads the settings; missing or unknown values are the defaults.
pub fn load(conn: &Connection) -> Result<AppSettings, AppError> {
    let defaults = AppSettings::default();
    let text = |key| db::get_setting(conn, key);
    Ok(AppSettings {
        currency: text(CURRENCY)?
            .and_then(|v| Currency::parse(&v))
            .unwrap_or(defaults.currency),
        week_start: text(WEEK_START)?
            .and_then(|v| WeekStart::parse(&v))
            .unwrap_or(defaults.week_start),
        rounding: text(ROUNDING)?
            .and_then(|v| Rounding::parse(&v))
            .unwrap_or(defaults.rounding),
    })
}

/// Stores the settings; returns whether anything changed.
///
/// `admin.settings_updated` is sent only when a value actually changed, with the new values
/// (all fixed categories).
pub async fn update(state: &AppState, admin: &User, new: AppSettings) -> Result<bool, AppError> {
    let changed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let old = load(&tx)?;
            db::set_setting(&tx, CURRENCY, new.currency.as_str())?;
            db::set_setting(&tx, WEEK_START, new.week_start.as_str())?;
            db::set_setting(&tx, ROUNDING, new.rounding.as_str())?;
            tx.commit()?;
            Ok(old != new)
        })
        .await?;
    if changed {
        tracing::info!(user_id = admin.id, "settings updated");
        track!(
            "admin.settings_updated",
            description = "An admin changed the app's settings; the new values are sent.",
            distinct_id = admin.id,
            props(
                currency: Currency = new.currency,
                week_start: WeekStart = new.week_start,
                rounding: Rounding = new.rounding
            )
        );
    }
    Ok(changed)
}

/// The settings form: every field as submitted text.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    /// A [`Currency`].
    #[serde(default)]
    pub currency: String,
    /// A [`WeekStart`].
    #[serde(default)]
    pub week_start: String,
    /// A [`Rounding`].
    #[serde(default)]
    pub rounding: String,
}

impl SettingsForm {
    /// Parses every field; an unknown value is a validation error.
    pub fn parse(&self) -> Result<AppSettings, AppError> {
        let bad = |field: &str| AppError::invalid(format!("unknown {field}"));
        Ok(AppSettings {
            currency: Currency::parse(&self.currency).ok_or_else(|| bad("currency"))?,
            week_start: WeekStart::parse(&self.week_start).ok_or_else(|| bad("week start"))?,
            rounding: Rounding::parse(&self.rounding).ok_or_else(|| bad("rounding"))?,
        })
    }
}

async fn settings_page(
    State(state): State<AppState>,
    session: Session,
    AdminUser(admin): AdminUser,
) -> Result<views::Page, HtmlError> {
    let current = state.db.call(|conn| load(conn)).await?;
    let csrf = session.csrf_token();
    let body = html! {
        h1 { "Settings" }
        form #settings-form method="post" action="/admin/settings" {
            (views::csrf_input(&csrf))
            label { "Currency "
                select name="currency" {
                    @for value in Currency::ALL {
                        option value=(value) selected[*value == current.currency] { (value.as_str().to_uppercase()) }
                    }
                }
            }
            label { "Weeks start on "
                select name="week_start" {
                    @for value in WeekStart::ALL {
                        option value=(value) selected[*value == current.week_start] { (value) }
                    }
                }
            }
            label { "Round report times up to "
                select name="rounding" {
                    @for value in Rounding::ALL {
                        option value=(value) selected[*value == current.rounding] { (value.as_str().replace('_', " ")) }
                    }
                }
            }
            button #settings-submit type="submit" { "Save settings" }
        }
    };
    Ok(views::page("Settings", Some(&admin), Some(&csrf), body))
}

async fn settings_submit(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Form(form): Form<SettingsForm>,
) -> Result<Redirect, HtmlError> {
    update(&state, &admin, form.parse()?).await?;
    Ok(Redirect::to("/admin/settings"))
}

async fn api_get(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<AppSettings>, AppError> {
    Ok(Json(state.db.call(|conn| load(conn)).await?))
}

async fn api_put(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(new): Json<AppSettings>,
) -> Result<Json<AppSettings>, AppError> {
    update(&state, &admin, new).await?;
    Ok(Json(new))
}

/// Routes: `/admin/settings` (HTML) and `/api/admin/settings` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/settings", get(settings_page).post(settings_submit))
        .route("/api/admin/settings", get(api_get).put(api_put))
}
