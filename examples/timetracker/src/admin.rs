//! The admin telemetry page: status, the full catalog, and the consent switch.

use axum::extract::{Query, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use serde::Deserialize;
use telemetry_core::{track, track_event};

use crate::auth::{AdminUser, Session, User};
use crate::error::{AppError, HtmlError};
use crate::state::AppState;
use crate::telemetry_setup::{self, Status};
use crate::transparency;
use crate::views;

/// Persists the admin's telemetry choice through the toolkit and applies it at once; returns
/// the new status.
///
/// `admin.telemetry_toggled` is captured with `track!` *after* the switch: an attribute would
/// check the switch on entry and miss the "turned on" case, and after turning telemetry off the
/// capture is a no-op, so a disable is never reported.
pub async fn set_telemetry(
    state: &AppState,
    admin: &User,
    enabled: bool,
) -> Result<Status, AppError> {
    telemetry_setup::set_consent(&state.telemetry, enabled);
    tracing::info!(
        user_id = admin.id,
        enabled,
        "admin changed telemetry consent"
    );
    track!(
        "admin.telemetry_toggled",
        description = "An admin turned telemetry on or off. Captured after the switch took \
                       effect, so turning telemetry off is never reported: only `enabled = true` \
                       ever leaves the machine.",
        distinct_id = admin.id,
        props(enabled: bool = enabled)
    );
    Ok(telemetry_setup::status(&state.telemetry))
}

/// Waits (at most the pipeline's shutdown bound, 2 s by default) until every queued event had
/// a delivery attempt; returns whether it finished in time. Sends nothing of its own.
pub async fn flush_telemetry(state: &AppState) -> Result<bool, AppError> {
    let telemetry = state.telemetry.clone();
    Ok(tokio::task::spawn_blocking(move || telemetry.flush()).await?)
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn or_never(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("never")
}

/// An admin opened the telemetry page.
#[track_event("admin.telemetry_dashboard_viewed", on = "success", distinct_id = admin.id)]
async fn telemetry_page(
    State(state): State<AppState>,
    session: Session,
    AdminUser(admin): AdminUser,
    Query(query): Query<PageQuery>,
) -> Result<views::Page, HtmlError> {
    let status = telemetry_setup::status(&state.telemetry);
    let csrf = session.csrf_token();
    let state_file = status
        .state_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "none (in memory only)".to_owned());
    let counters = &status.counters;
    let body = html! {
        h1 { "Telemetry" }
        section #telemetry-status data-enabled=(status.enabled) {
            h2 {
                "Status: "
                @if status.enabled {
                    span.badge.on #telemetry-state { "enabled" }
                } @else {
                    span.badge.off #telemetry-state { "disabled" }
                }
            }
            p #telemetry-reason { (status.reason) }
            @if query.flushed.is_some() {
                p.muted #telemetry-flushed role="status" { "Queued events were handed to the sink." }
            }
            form #telemetry-toggle-form method="post" action="/admin/telemetry/toggle" {
                (views::csrf_input(&csrf))
                input type="hidden" name="enabled" value=(!status.enabled);
                @if status.enabled {
                    button.danger #telemetry-toggle type="submit" { "Disable telemetry" }
                } @else {
                    button #telemetry-toggle type="submit" { "Enable telemetry" }
                }
            }
            form.inline #telemetry-flush-form method="post" action="/admin/telemetry/flush" {
                (views::csrf_input(&csrf))
                button.secondary #telemetry-flush type="submit" { "Send queued events now" }
            }
            p.muted { "The switch takes effect at once and is remembered across restarts. "
                "DO_NOT_TRACK and ENABLE_TELEMETRY in the environment take precedence over it." }
            dl.status {
                dt { "Install fingerprint (shortened)" } dd #telemetry-fingerprint { (status.fingerprint_short) "…" }
                dt { "PostHog configured" } dd #telemetry-posthog { (yes_no(status.posthog_configured)) }
                dt { "PostHog host" } dd #telemetry-posthog-host { (status.posthog_host.as_deref().unwrap_or("—")) }
                dt { "Sink" } dd #telemetry-sink {
                    (status.sink)
                    @if let Some(target) = &status.sink_target { " → " (target) }
                }
                dt { "State file" } dd #telemetry-state-file { (state_file) }
                dt { "Last install ping" } dd #telemetry-last-install { (or_never(&status.last_install)) }
                dt { "Last update ping" } dd #telemetry-last-update { (or_never(&status.last_update)) }
                dt { "Last health ping" } dd #telemetry-last-health { (or_never(&status.last_health)) }
                dt { "Remote kill switch" } dd #telemetry-remote {
                    @match &status.remote {
                        Some(remote) => {
                            code { (remote.flag) } ": " (remote.state)
                            @if !remote.dropped_events.is_empty() { ", drops " (remote.dropped_events.join(", ")) }
                            ", evaluated " (or_never(&remote.evaluated_at)) " — " (remote.summary)
                        }
                        None => "not configured (TELEMETRY_REMOTE_FLAG)",
                    }
                }
                dt { "Events captured" } dd #telemetry-captured { (counters.captured) }
                dt { "Events sent" } dd #telemetry-sent { (counters.sent) }
                dt { "Events dropped" } dd #telemetry-dropped { (counters.dropped) }
                dt { "Events failed" } dd #telemetry-failed { (counters.failed) }
                dt { "Events queued" } dd #telemetry-queued { (counters.queued) }
                dt { "Events spooled (PostHog unreachable)" } dd #telemetry-spooled { (counters.spooled) }
                dt { "Events recovered from the spool" } dd #telemetry-recovered { (counters.recovered) }
                dt { "Spooled events expired / overflowed / rejected by PostHog" } dd #telemetry-spool-dropped {
                    (counters.spool_expired) " / " (counters.spool_overflowed) " / " (counters.spool_rejected)
                }
                dt { "Waiting in the spool" } dd #telemetry-spool-pending { (status.spool_pending) }
            }
        }
        (transparency::catalog_section(&transparency::catalog()))
    };
    Ok(views::page("Telemetry", Some(&admin), Some(&csrf), body))
}

/// The admin page's query: `?flushed=1` after "Send queued events now".
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// Present after a flush.
    pub flushed: Option<String>,
}

/// The toggle form.
#[derive(Debug, Deserialize)]
pub struct ToggleForm {
    /// `true` to enable, `false` to disable.
    pub enabled: String,
}

fn parse_enabled(value: &str) -> Result<bool, AppError> {
    match value {
        "true" | "on" | "1" => Ok(true),
        "false" | "off" | "0" => Ok(false),
        _ => Err(AppError::invalid("enabled must be true or false")),
    }
}

async fn toggle_submit(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Form(form): Form<ToggleForm>,
) -> Result<Redirect, HtmlError> {
    let enabled = parse_enabled(&form.enabled)?;
    set_telemetry(&state, &admin, enabled).await?;
    Ok(Redirect::to("/admin/telemetry"))
}

async fn flush_submit(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Redirect, HtmlError> {
    flush_telemetry(&state).await?;
    Ok(Redirect::to("/admin/telemetry?flushed=1"))
}

async fn api_flush(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let flushed = flush_telemetry(&state).await?;
    Ok(Json(serde_json::json!({ "flushed": flushed })))
}

async fn api_status(State(state): State<AppState>, AdminUser(_admin): AdminUser) -> Json<Status> {
    Json(telemetry_setup::status(&state.telemetry))
}

/// The JSON toggle body.
#[derive(Debug, Deserialize)]
pub struct ToggleRequest {
    /// Whether telemetry should be on.
    pub enabled: bool,
}

async fn api_toggle(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Json(body): Json<ToggleRequest>,
) -> Result<Json<Status>, AppError> {
    Ok(Json(set_telemetry(&state, &admin, body.enabled).await?))
}

/// Routes: `/admin/telemetry`, `/admin/telemetry/toggle`, `/admin/telemetry/flush`,
/// `/api/admin/telemetry`, `/api/admin/telemetry/flush`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/telemetry", get(telemetry_page))
        .route("/admin/telemetry/toggle", post(toggle_submit))
        .route("/admin/telemetry/flush", post(flush_submit))
        .route("/api/admin/telemetry/flush", post(api_flush))
        .route("/api/admin/telemetry", get(api_status).post(api_toggle))
}
