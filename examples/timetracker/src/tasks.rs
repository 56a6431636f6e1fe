//! Tasks: units of work inside a project, with a status and a priority.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::track;

use crate::auth::{CurrentUser, User};
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::models::{TaskPriority, TaskStatus};
use crate::projects;
use crate::state::AppState;

/// A task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    /// The record id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: i64,
    /// Its name (never sent as telemetry).
    pub name: String,
    /// Free text (never sent as telemetry).
    pub description: Option<String>,
    /// Where it stands.
    pub status: TaskStatus,
    /// How urgent it is.
    pub priority: TaskPriority,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was last changed (RFC 3339).
    pub updated_at: String,
}

/// The fields of a new task.
#[derive(Debug, Clone, Deserialize)]
pub struct NewTask {
    /// The project it belongs to.
    pub project_id: i64,
    /// Its name (required).
    #[serde(default)]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Defaults to medium.
    #[serde(default)]
    pub priority: Option<TaskPriority>,
    /// Defaults to todo.
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

/// The fields an edit may change (at least one).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskPatch {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new description (an empty string clears it).
    #[serde(default)]
    pub description: Option<String>,
    /// A new priority.
    #[serde(default)]
    pub priority: Option<TaskPriority>,
}

/// The body of a status change.
#[derive(Debug, Clone, Deserialize)]
pub struct StatusChange {
    /// The new status.
    pub status: TaskStatus,
}

const COLUMNS: &str = "id, project_id, name, description, status, priority, created_at, updated_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: row.get(0)?,
        project_id: row.get(1)?,
        name: row.get(2)?,
        description: row.get(3)?,
        status: row.get(4)?,
        priority: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

/// Loads a task.
pub fn find_task(conn: &Connection, id: i64) -> Result<Option<Task>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// Lists tasks, of one project or all.
pub fn list_tasks(conn: &Connection, project_id: Option<i64>) -> Result<Vec<Task>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tasks WHERE ?1 IS NULL OR project_id = ?1 ORDER BY project_id, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([project_id], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Creates a task.
pub async fn create_task(state: &AppState, user: &User, input: NewTask) -> Result<Task, AppError> {
    let name = forms::required_text(&input.name, "the name", 200)?;
    let description = forms::opt_text(input.description);
    let priority = input.priority.unwrap_or(TaskPriority::Medium);
    let status = input.status.unwrap_or(TaskStatus::Todo);
    let creator = user.id;
    let task =
        state
            .db
            .call(move |conn| {
                if projects::find_project(conn, input.project_id)?.is_none() {
                    return Err(AppError::invalid("the project does not exist"));
                }
                let now = crate::db::now();
                conn.execute(
                "INSERT INTO tasks (project_id, name, description, status, priority, created_by,
                                    created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![input.project_id, name, description, status, priority, creator, now],
            )?;
                find_task(conn, conn.last_insert_rowid())?.ok_or(AppError::NotFound("task"))
            })
            .await?;
    track!(
        "task.created",
        description = "A task was created. Its name and description are never sent.",
        distinct_id = user.id,
        props(
            task_id: i64 = task.id,
            project_id: i64 = task.project_id,
            priority: TaskPriority = task.priority
        )
    );
    Ok(task)
}

/// Edits a task's name, description or priority.
pub async fn update_task(
    state: &AppState,
    user: &User,
    id: i64,
    patch: TaskPatch,
) -> Result<Task, AppError> {
    if patch.name.is_none() && patch.description.is_none() && patch.priority.is_none() {
        return Err(AppError::invalid("nothing to change"));
    }
    let name = patch
        .name
        .as_deref()
        .map(|n| forms::required_text(n, "the name", 200))
        .transpose()?;
    let task = state
        .db
        .call(move |conn| {
            let task = find_task(conn, id)?.ok_or(AppError::NotFound("task"))?;
            let description = match patch.description {
                Some(d) => forms::opt_text(Some(d)),
                None => task.description.clone(),
            };
            conn.execute(
                "UPDATE tasks SET name = ?1, description = ?2, priority = ?3, updated_at = ?4
                 WHERE id = ?5",
                params![
                    name.unwrap_or(task.name),
                    description,
                    patch.priority.unwrap_or(task.priority),
                    crate::db::now(),
                    id
                ],
            )?;
            find_task(conn, id)?.ok_or(AppError::NotFound("task"))
        })
        .await?;
    track!(
        "task.updated",
        description = "A task's name, description or priority was edited.",
        distinct_id = user.id,
        props(task_id: i64 = task.id, project_id: i64 = task.project_id)
    );
    Ok(task)
}

/// Moves a task to another status. Setting the status it already has changes nothing and
/// sends nothing.
pub async fn change_status(
    state: &AppState,
    user: &User,
    id: i64,
    new_status: TaskStatus,
) -> Result<Task, AppError> {
    let (task, old_status) = state
        .db
        .call(move |conn| {
            let task = find_task(conn, id)?.ok_or(AppError::NotFound("task"))?;
            if task.status != new_status {
                conn.execute(
                    "UPDATE tasks SET status = ?1, updated_at = ?2 WHERE id = ?3",
                    params![new_status, crate::db::now(), id],
                )?;
            }
            let old = task.status;
            Ok((find_task(conn, id)?.ok_or(AppError::NotFound("task"))?, old))
        })
        .await?;
    if old_status != new_status {
        track!(
            "task.status_changed",
            description = "A task moved from one status to another.",
            distinct_id = user.id,
            props(
                task_id: i64 = task.id,
                old_status: TaskStatus = old_status,
                new_status: TaskStatus = new_status
            )
        );
    }
    Ok(task)
}

/// Deletes a task (its time entries are kept, without the task).
pub async fn delete_task(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    let project_id = state
        .db
        .call(move |conn| {
            let task = find_task(conn, id)?.ok_or(AppError::NotFound("task"))?;
            conn.execute("DELETE FROM tasks WHERE id = ?1", [id])?;
            Ok(task.project_id)
        })
        .await?;
    track!(
        "task.deleted",
        description = "A task was deleted.",
        distinct_id = user.id,
        props(task_id: i64 = id, project_id: i64 = project_id)
    );
    Ok(())
}

// --- HTML ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct TaskForm {
    #[serde(default)]
    name: String,
    priority: Option<TaskPriority>,
}

async fn create_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(project_id): Path<i64>,
    Form(form): Form<TaskForm>,
) -> Result<Redirect, HtmlError> {
    let input = NewTask {
        project_id,
        name: form.name,
        description: None,
        priority: form.priority,
        status: None,
    };
    create_task(&state, &user, input).await?;
    Ok(Redirect::to(&format!("/projects/{project_id}")))
}

async fn status_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<StatusChange>,
) -> Result<Redirect, HtmlError> {
    let task = change_status(&state, &user, id, form.status).await?;
    Ok(Redirect::to(&format!("/projects/{}", task.project_id)))
}

// --- JSON ------------------------------------------------------------------------------------

/// Query of `GET /api/tasks`.
#[derive(Debug, Deserialize)]
pub struct TaskQuery {
    /// Only this project's tasks.
    pub project_id: Option<i64>,
}

async fn api_list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Query(query): Query<TaskQuery>,
) -> Result<Json<Vec<Task>>, AppError> {
    let project_id = query.project_id;
    Ok(Json(
        state
            .db
            .call(move |conn| list_tasks(conn, project_id))
            .await?,
    ))
}

async fn api_get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Task>, AppError> {
    let task = state.db.call(move |conn| find_task(conn, id)).await?;
    Ok(Json(task.ok_or(AppError::NotFound("task"))?))
}

async fn api_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<NewTask>,
) -> Result<(StatusCode, Json<Task>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(create_task(&state, &user, input).await?),
    ))
}

async fn api_update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(patch): Json<TaskPatch>,
) -> Result<Json<Task>, AppError> {
    Ok(Json(update_task(&state, &user, id, patch).await?))
}

async fn api_status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(change): Json<StatusChange>,
) -> Result<Json<Task>, AppError> {
    Ok(Json(change_status(&state, &user, id, change.status).await?))
}

async fn api_delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_task(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes: task forms (HTML) and `/api/tasks…` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/tasks", post(create_submit))
        .route("/tasks/{id}/status", post(status_submit))
        .route("/api/tasks", get(api_list).post(api_create))
        .route(
            "/api/tasks/{id}",
            get(api_get).patch(api_update).delete(api_delete),
        )
        .route("/api/tasks/{id}/status", post(api_status))
}
