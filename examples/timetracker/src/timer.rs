//! The timer and time entries, and the start page that shows them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::track;

use crate::auth::{CurrentUser, Session, User};
use crate::db;
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::projects;
use crate::state::AppState;
use crate::tasks;
use crate::views;

/// A stretch of tracked time; running while `end_time` is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeEntry {
    /// The record id.
    pub id: i64,
    /// Whose time it is.
    pub user_id: i64,
    /// The project it is tracked against.
    pub project_id: i64,
    /// The task, if any.
    pub task_id: Option<i64>,
    /// What was done (never sent as telemetry).
    pub notes: Option<String>,
    /// When it started (RFC 3339).
    pub start_time: String,
    /// When it stopped (RFC 3339); empty while running.
    pub end_time: Option<String>,
    /// Whole seconds, once stopped.
    pub duration_seconds: Option<i64>,
}

/// What starting a timer needs.
#[derive(Debug, Clone, Deserialize)]
pub struct StartTimer {
    /// The project to track against.
    pub project_id: i64,
    /// A task of that project.
    #[serde(default)]
    pub task_id: Option<i64>,
    /// What is being done.
    #[serde(default)]
    pub notes: Option<String>,
}

impl StartTimer {
    /// Whether notes were given (only this yes/no is sent, never the notes).
    pub fn has_notes(&self) -> bool {
        self.notes.as_deref().is_some_and(|n| !n.trim().is_empty())
    }
}

const COLUMNS: &str =
    "id, user_id, project_id, task_id, notes, start_time, end_time, duration_seconds";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TimeEntry> {
    Ok(TimeEntry {
        id: row.get(0)?,
        user_id: row.get(1)?,
        project_id: row.get(2)?,
        task_id: row.get(3)?,
        notes: row.get(4)?,
        start_time: row.get(5)?,
        end_time: row.get(6)?,
        duration_seconds: row.get(7)?,
    })
}

/// The user's running entry, if any.
pub fn running_entry(conn: &Connection, user_id: i64) -> Result<Option<TimeEntry>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM time_entries WHERE user_id = ?1 AND end_time IS NULL");
    Ok(conn.query_row(&sql, [user_id], from_row).optional()?)
}

/// The user's latest entries, newest first.
pub fn recent_entries(
    conn: &Connection,
    user_id: i64,
    limit: i64,
) -> Result<Vec<TimeEntry>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM time_entries WHERE user_id = ?1 ORDER BY start_time DESC, id DESC LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![user_id, limit], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Starts a timer for `user`.
///
/// `timer.started` is captured with `track!` after the insert, so it carries the new time
/// entry's id (the same plain record number `timer.stopped` sends, so the two join); only
/// whether notes were written is sent, never the notes.
pub async fn start_timer(
    state: &AppState,
    user: &User,
    input: StartTimer,
) -> Result<TimeEntry, AppError> {
    let user_id = user.id;
    let has_notes = input.has_notes();
    let notes = forms::opt_text(input.notes);
    if notes.as_deref().is_some_and(|n| n.chars().count() > 2_000) {
        return Err(AppError::invalid(
            "the notes must be at most 2000 characters",
        ));
    }
    let entry = state
        .db
        .call(move |conn| {
            if running_entry(conn, user_id)?.is_some() {
                return Err(AppError::Conflict("a timer is already running".to_owned()));
            }
            match projects::find_project(conn, input.project_id)? {
                None => return Err(AppError::invalid("the project does not exist")),
                Some(project) if project.archived => {
                    return Err(AppError::invalid("the project is archived"));
                }
                Some(_) => {}
            }
            if let Some(task_id) = input.task_id {
                match tasks::find_task(conn, task_id)? {
                    Some(task) if task.project_id == input.project_id => {}
                    _ => return Err(AppError::invalid("the task is not part of that project")),
                }
            }
            conn.execute(
                "INSERT INTO time_entries (user_id, project_id, task_id, notes, start_time)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user_id, input.project_id, input.task_id, notes, db::now()],
            )?;
            running_entry(conn, user_id)?.ok_or(AppError::NotFound("time entry"))
        })
        .await?;
    track!(
        "timer.started",
        description = "A timer was started. Only whether notes were written is sent, never the \
                       notes.",
        distinct_id = user.id,
        props(
            time_entry_id: i64 = entry.id,
            project_id: i64 = entry.project_id,
            task_id: Option<i64> = entry.task_id,
            has_description: bool = has_notes
        )
    );
    Ok(entry)
}

/// Stops the user's running timer.
pub async fn stop_timer(state: &AppState, user: &User) -> Result<TimeEntry, AppError> {
    let user_id = user.id;
    let entry = state
        .db
        .call(move |conn| {
            let entry = running_entry(conn, user_id)?
                .ok_or(AppError::Conflict("no timer is running".to_owned()))?;
            let now = chrono::Utc::now();
            let started = db::parse_time(&entry.start_time)?;
            let seconds = (now - started).num_seconds().max(0);
            let end_time = db::format_time(now);
            conn.execute(
                "UPDATE time_entries SET end_time = ?1, duration_seconds = ?2 WHERE id = ?3",
                params![end_time, seconds, entry.id],
            )?;
            Ok(TimeEntry {
                end_time: Some(end_time),
                duration_seconds: Some(seconds),
                ..entry
            })
        })
        .await?;
    track!(
        "timer.stopped",
        description = "A running timer was stopped, with how long it ran.",
        distinct_id = user.id,
        props(
            time_entry_id: i64 = entry.id,
            project_id: i64 = entry.project_id,
            task_id: Option<i64> = entry.task_id,
            duration_seconds: i64 = entry.duration_seconds.unwrap_or_default()
        )
    );
    Ok(entry)
}

// --- HTML ------------------------------------------------------------------------------------

async fn dashboard(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<views::Page, HtmlError> {
    let user_id = user.id;
    let (running, entries, projects, tasks) = state
        .db
        .call(move |conn| {
            Ok((
                running_entry(conn, user_id)?,
                recent_entries(conn, user_id, 10)?,
                projects::list_projects(conn)?,
                tasks::list_tasks(conn, None)?,
            ))
        })
        .await?;
    let project_name = |id: i64| {
        projects
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let csrf = session.csrf_token();
    let body = html! {
        h1 { "Timer" }
        section #timer {
            @if let Some(entry) = &running {
                @let elapsed = db::parse_time(&entry.start_time)
                    .map(|t| (chrono::Utc::now() - t).num_seconds())
                    .unwrap_or_default();
                p { "Running on " strong { (project_name(entry.project_id)) } " since " (entry.start_time) }
                p.timer #timer-elapsed { (views::hms(elapsed)) }
                form #stop-timer-form method="post" action="/timer/stop" {
                    (views::csrf_input(&csrf))
                    button.danger #stop-timer type="submit" { "Stop timer" }
                }
            } @else if projects.is_empty() {
                p { "Create a " a href="/projects" { "project" } " first, then start a timer here." }
            } @else {
                form #start-timer-form method="post" action="/timer/start" {
                    (views::csrf_input(&csrf))
                    label { "Project "
                        select name="project_id" required {
                            @for project in projects.iter().filter(|p| !p.archived) { option value=(project.id) { (project.name) } }
                        }
                    }
                    label { "Task "
                        select name="task_id" {
                            option value="" { "— none —" }
                            @for task in &tasks {
                                option value=(task.id) { (project_name(task.project_id)) " / " (task.name) }
                            }
                        }
                    }
                    label { "Notes " input type="text" name="notes"; }
                    button #start-timer type="submit" { "Start timer" }
                }
            }
        }
        section {
            h2 { "Recent entries" }
            table #recent-entries {
                thead { tr { th { "Project" } th { "Started" } th { "Duration" } th { "Notes" } } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td { (project_name(entry.project_id)) }
                            td { (entry.start_time) }
                            td { @match entry.duration_seconds { Some(s) => (views::hms(s)), None => "running" } }
                            td { (entry.notes.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    };
    Ok(views::page("Timer", Some(&user), Some(&csrf), body))
}

#[derive(Debug, Deserialize)]
struct StartForm {
    project_id: Option<String>,
    task_id: Option<String>,
    notes: Option<String>,
}

async fn start_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(form): Form<StartForm>,
) -> Result<Redirect, HtmlError> {
    let project_id = forms::opt_id(form.project_id.as_deref(), "the project")?
        .ok_or_else(|| AppError::invalid("choose a project"))?;
    let input = StartTimer {
        project_id,
        task_id: forms::opt_id(form.task_id.as_deref(), "the task")?,
        notes: form.notes,
    };
    start_timer(&state, &user, input).await?;
    Ok(Redirect::to("/"))
}

async fn stop_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Redirect, HtmlError> {
    stop_timer(&state, &user).await?;
    Ok(Redirect::to("/"))
}

// --- JSON ------------------------------------------------------------------------------------

async fn api_current(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Option<TimeEntry>>, AppError> {
    let user_id = user.id;
    Ok(Json(
        state
            .db
            .call(move |conn| running_entry(conn, user_id))
            .await?,
    ))
}

async fn api_start(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<StartTimer>,
) -> Result<(StatusCode, Json<TimeEntry>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(start_timer(&state, &user, input).await?),
    ))
}

async fn api_stop(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<TimeEntry>, AppError> {
    Ok(Json(stop_timer(&state, &user).await?))
}

async fn api_entries(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Vec<TimeEntry>>, AppError> {
    let user_id = user.id;
    Ok(Json(
        state
            .db
            .call(move |conn| recent_entries(conn, user_id, 500))
            .await?,
    ))
}

/// Routes: `/` (start page), timer forms, `/api/timer…` and `/api/time-entries`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/timer/start", post(start_submit))
        .route("/timer/stop", post(stop_submit))
        .route("/api/timer", get(api_current))
        .route("/api/timer/start", post(api_start))
        .route("/api/timer/stop", post(api_stop))
        .route("/api/time-entries", get(api_entries))
}
