//! Comments on projects and tasks.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, patch, post};
use axum::{Form, Json, Router};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::{track, track_event};

use crate::auth::{CurrentUser, User};
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::models::CommentTarget;
use crate::projects;
use crate::state::AppState;
use crate::tasks;

/// The longest comment accepted, in characters.
const MAX_BODY: usize = 10_000;

/// A comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    /// The record id.
    pub id: i64,
    /// Its author.
    pub user_id: i64,
    /// What it is attached to.
    pub target_type: CommentTarget,
    /// The project's or task's id.
    pub target_id: i64,
    /// The text (never sent as telemetry).
    pub body: String,
    /// When it was written (RFC 3339).
    pub created_at: String,
    /// When it was last edited (RFC 3339).
    pub updated_at: String,
}

/// A new comment: on a project or on a task (exactly one).
#[derive(Debug, Clone, Deserialize)]
pub struct NewComment {
    /// The project commented on.
    #[serde(default)]
    pub project_id: Option<i64>,
    /// The task commented on.
    #[serde(default)]
    pub task_id: Option<i64>,
    /// The text.
    #[serde(default)]
    pub body: String,
}

/// An edit.
#[derive(Debug, Clone, Deserialize)]
pub struct CommentEdit {
    /// The new text.
    #[serde(default)]
    pub body: String,
}

const COLUMNS: &str = "id, user_id, target_type, target_id, body, created_at, updated_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: row.get(0)?,
        user_id: row.get(1)?,
        target_type: row.get(2)?,
        target_id: row.get(3)?,
        body: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
    })
}

/// Loads a comment.
pub fn find_comment(conn: &Connection, id: i64) -> Result<Option<Comment>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM comments WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// Lists the comments on one project or task, oldest first.
pub fn list_comments(
    conn: &Connection,
    target: CommentTarget,
    target_id: i64,
) -> Result<Vec<Comment>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM comments WHERE target_type = ?1 AND target_id = ?2 ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(params![target, target_id], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn target_of(
    project_id: Option<i64>,
    task_id: Option<i64>,
) -> Result<(CommentTarget, i64), AppError> {
    match (project_id, task_id) {
        (Some(id), None) => Ok((CommentTarget::Project, id)),
        (None, Some(id)) => Ok((CommentTarget::Task, id)),
        _ => Err(AppError::invalid(
            "a comment needs exactly one of project_id and task_id",
        )),
    }
}

/// Adds a comment.
pub async fn create_comment(
    state: &AppState,
    user: &User,
    input: NewComment,
) -> Result<Comment, AppError> {
    let (target, target_id) = target_of(input.project_id, input.task_id)?;
    let body = forms::required_text(&input.body, "the comment", MAX_BODY)?;
    let author = user.id;
    let comment = state
        .db
        .call(move |conn| {
            let exists = match target {
                CommentTarget::Project => projects::find_project(conn, target_id)?.is_some(),
                CommentTarget::Task => tasks::find_task(conn, target_id)?.is_some(),
            };
            if !exists {
                return Err(AppError::invalid(format!("the {target} does not exist")));
            }
            let now = crate::db::now();
            conn.execute(
                "INSERT INTO comments (user_id, target_type, target_id, body, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![author, target, target_id, body, now],
            )?;
            find_comment(conn, conn.last_insert_rowid())?.ok_or(AppError::NotFound("comment"))
        })
        .await?;
    track!(
        "comment.created",
        description = "A comment was added to a project or a task. Its text is never sent.",
        distinct_id = user.id,
        props(
            comment_id: i64 = comment.id,
            target_type: CommentTarget = comment.target_type
        )
    );
    Ok(comment)
}

/// Loads a comment the user may change: their own, or any for an admin.
fn editable(conn: &Connection, user_id: i64, is_admin: bool, id: i64) -> Result<Comment, AppError> {
    let comment = find_comment(conn, id)?.ok_or(AppError::NotFound("comment"))?;
    if comment.user_id != user_id && !is_admin {
        return Err(AppError::Forbidden);
    }
    Ok(comment)
}

/// A comment was edited by its author (or an admin).
#[track_event("comment.updated", on = "success", distinct_id = user.id, props(comment_id = id))]
pub async fn update_comment(
    state: &AppState,
    user: &User,
    id: i64,
    edit: CommentEdit,
) -> Result<Comment, AppError> {
    let body = forms::required_text(&edit.body, "the comment", MAX_BODY)?;
    let (user_id, is_admin) = (user.id, user.is_admin);
    state
        .db
        .call(move |conn| {
            editable(conn, user_id, is_admin, id)?;
            conn.execute(
                "UPDATE comments SET body = ?1, updated_at = ?2 WHERE id = ?3",
                params![body, crate::db::now(), id],
            )?;
            find_comment(conn, id)?.ok_or(AppError::NotFound("comment"))
        })
        .await
}

/// A comment was deleted by its author (or an admin).
#[track_event("comment.deleted", on = "success", distinct_id = user.id, props(comment_id = id))]
pub async fn delete_comment(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    let (user_id, is_admin) = (user.id, user.is_admin);
    state
        .db
        .call(move |conn| {
            editable(conn, user_id, is_admin, id)?;
            conn.execute("DELETE FROM comments WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
}

// --- HTML ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct CommentForm {
    project_id: Option<String>,
    task_id: Option<String>,
    #[serde(default)]
    body: String,
}

async fn create_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(form): Form<CommentForm>,
) -> Result<Redirect, HtmlError> {
    let input = NewComment {
        project_id: forms::opt_id(form.project_id.as_deref(), "the project")?,
        task_id: forms::opt_id(form.task_id.as_deref(), "the task")?,
        body: form.body,
    };
    let comment = create_comment(&state, &user, input).await?;
    let project_id = match comment.target_type {
        CommentTarget::Project => comment.target_id,
        CommentTarget::Task => {
            let task_id = comment.target_id;
            state
                .db
                .call(move |conn| Ok(tasks::find_task(conn, task_id)?.map(|t| t.project_id)))
                .await?
                .unwrap_or_default()
        }
    };
    Ok(Redirect::to(&format!("/projects/{project_id}")))
}

// --- JSON ------------------------------------------------------------------------------------

/// Query of `GET /api/comments`: one of `project_id` and `task_id`.
#[derive(Debug, Deserialize)]
pub struct CommentQuery {
    /// Comments on this project.
    pub project_id: Option<i64>,
    /// Comments on this task.
    pub task_id: Option<i64>,
}

async fn api_list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Query(query): Query<CommentQuery>,
) -> Result<Json<Vec<Comment>>, AppError> {
    let (target, id) = target_of(query.project_id, query.task_id)?;
    Ok(Json(
        state
            .db
            .call(move |conn| list_comments(conn, target, id))
            .await?,
    ))
}

async fn api_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, Json<Comment>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(create_comment(&state, &user, input).await?),
    ))
}

async fn api_update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(edit): Json<CommentEdit>,
) -> Result<Json<Comment>, AppError> {
    Ok(Json(update_comment(&state, &user, id, edit).await?))
}

async fn api_delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_comment(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes: `/comments` (HTML form) and `/api/comments…` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/comments", post(create_submit))
        .route("/api/comments", get(api_list).post(api_create))
        .route("/api/comments/{id}", patch(api_update).delete(api_delete))
}
