//! Changing a project after it was created: edit, archive, delete.
//!
//! An archived project keeps its time entries, tasks and comments but takes no new time. Only a
//! project without time entries can be deleted (its tasks and comments go with it); archive the
//! others, so no tracked hours ever vanish from a report.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{delete, post};
use axum::{Form, Json, Router};
use rusqlite::params;
use serde::Deserialize;
use telemetry_core::track_event;

use crate::auth::{CurrentUser, User};
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::projects::{Project, ProjectInput, check_client, find_project, validate};
use crate::state::AppState;

/// A project's details were changed. Its name and description are never sent.
#[track_event(
    "project.updated",
    on = "success",
    distinct_id = user.id,
    props(
        project_id = id,
        has_client = input.client_id.is_some(),
        billable: bool = input.billable
    )
)]
pub async fn update_project(
    state: &AppState,
    user: &User,
    id: i64,
    input: ProjectInput,
) -> Result<Project, AppError> {
    let (name, description) = validate(&input)?;
    state
        .db
        .call(move |conn| {
            if find_project(conn, id)?.is_none() {
                return Err(AppError::NotFound("project"));
            }
            check_client(conn, input.client_id)?;
            conn.execute(
                "UPDATE projects SET name = ?1, client_id = ?2, billable = ?3, hourly_rate = ?4,
                 description = ?5 WHERE id = ?6",
                params![
                    name,
                    input.client_id,
                    input.billable,
                    input.hourly_rate,
                    description,
                    id
                ],
            )?;
            find_project(conn, id)?.ok_or(AppError::NotFound("project"))
        })
        .await
}

/// A project was archived (kept with its history, closed for new time).
#[track_event("project.archived", on = "success", distinct_id = user.id, props(project_id = id))]
pub async fn archive_project(state: &AppState, user: &User, id: i64) -> Result<Project, AppError> {
    state
        .db
        .call(move |conn| {
            let project = find_project(conn, id)?.ok_or(AppError::NotFound("project"))?;
            if project.archived {
                return Err(AppError::Conflict(
                    "the project is already archived".to_owned(),
                ));
            }
            conn.execute("UPDATE projects SET archived = 1 WHERE id = ?1", [id])?;
            Ok(Project {
                archived: true,
                ..project
            })
        })
        .await
}

/// A project was deleted with its tasks and comments. Only projects without tracked time can
/// be deleted; archive the others.
#[track_event("project.deleted", on = "success", distinct_id = user.id, props(project_id = id))]
pub async fn delete_project(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if find_project(&tx, id)?.is_none() {
                return Err(AppError::NotFound("project"));
            }
            let entries: i64 = tx.query_row(
                "SELECT COUNT(*) FROM time_entries WHERE project_id = ?1",
                [id],
                |row| row.get(0),
            )?;
            if entries > 0 {
                return Err(AppError::Conflict(
                    "the project has tracked time; archive it instead".to_owned(),
                ));
            }
            tx.execute(
                "DELETE FROM comments WHERE (target_type = 'project' AND target_id = ?1)
                 OR (target_type = 'task'
                     AND target_id IN (SELECT id FROM tasks WHERE project_id = ?1))",
                [id],
            )?;
            // Tasks go with it (ON DELETE CASCADE).
            tx.execute("DELETE FROM projects WHERE id = ?1", [id])?;
            tx.commit()?;
            Ok(())
        })
        .await
}

// --- HTML ------------------------------------------------------------------------------------

/// The edit form on the project page.
#[derive(Debug, Deserialize)]
struct EditForm {
    #[serde(default)]
    name: String,
    client_id: Option<String>,
    billable: Option<String>,
    hourly_rate: Option<String>,
    description: Option<String>,
}

async fn edit_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Redirect, HtmlError> {
    let input = ProjectInput {
        name: form.name,
        client_id: forms::opt_id(form.client_id.as_deref(), "the client")?,
        billable: forms::checkbox(form.billable.as_deref()),
        hourly_rate: forms::opt_f64(form.hourly_rate.as_deref(), "the rate")?,
        description: form.description,
    };
    update_project(&state, &user, id, input).await?;
    Ok(Redirect::to(&format!("/projects/{id}")))
}

async fn archive_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, HtmlError> {
    archive_project(&state, &user, id).await?;
    Ok(Redirect::to(&format!("/projects/{id}")))
}

async fn delete_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, HtmlError> {
    delete_project(&state, &user, id).await?;
    Ok(Redirect::to("/projects"))
}

// --- JSON ------------------------------------------------------------------------------------

async fn api_update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ProjectInput>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(update_project(&state, &user, id, input).await?))
}

async fn api_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Project>, AppError> {
    Ok(Json(archive_project(&state, &user, id).await?))
}

async fn api_delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_project(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes: `/projects/{id}/edit|archive|delete` (forms), `PUT|DELETE /api/projects/{id}`,
/// `POST /api/projects/{id}/archive`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/edit", post(edit_submit))
        .route("/projects/{id}/archive", post(archive_submit))
        .route("/projects/{id}/delete", post(delete_submit))
        .route("/api/projects/{id}", delete(api_delete).put(api_update))
        .route("/api/projects/{id}/archive", post(api_archive))
}
