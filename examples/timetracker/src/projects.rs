//! Projects: what time is tracked against, optionally for a client and billable.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::get;
use axum::{Form, Json, Router};
use maud::html;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::track;

use crate::auth::{CurrentUser, Session, User};
use crate::clients;
use crate::comments;
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::models::{CommentTarget, TaskPriority, TaskStatus};
use crate::state::AppState;
use crate::tasks;
use crate::views;

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    /// The record id.
    pub id: i64,
    /// The project's name (stored, never sent as telemetry).
    pub name: String,
    /// The client it is for, if any.
    pub client_id: Option<i64>,
    /// Whether its time is billed.
    pub billable: bool,
    /// The hourly rate for billing.
    pub hourly_rate: Option<f64>,
    /// Free text (never sent as telemetry).
    pub description: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// Archived projects keep their history but take no new time.
    pub archived: bool,
}

/// The fields of a new project.
#[derive(Debug, Clone, Deserialize)]
pub struct ProjectInput {
    /// The name (required).
    #[serde(default)]
    pub name: String,
    /// The client, which must exist and not be archived.
    #[serde(default)]
    pub client_id: Option<i64>,
    /// Whether its time is billed.
    #[serde(default)]
    pub billable: bool,
    /// The hourly rate.
    #[serde(default)]
    pub hourly_rate: Option<f64>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

const COLUMNS: &str =
    "id, name, client_id, billable, hourly_rate, description, created_at, archived";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        id: row.get(0)?,
        name: row.get(1)?,
        client_id: row.get(2)?,
        billable: row.get(3)?,
        hourly_rate: row.get(4)?,
        description: row.get(5)?,
        created_at: row.get(6)?,
        archived: row.get(7)?,
    })
}

/// Loads a project.
pub fn find_project(conn: &Connection, id: i64) -> Result<Option<Project>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM projects WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// Lists projects by name.
pub fn list_projects(conn: &Connection) -> Result<Vec<Project>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM projects ORDER BY name COLLATE NOCASE, id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], from_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Checks a project's fields; returns its trimmed name and description.
pub(crate) fn validate(input: &ProjectInput) -> Result<(String, Option<String>), AppError> {
    let name = forms::required_text(&input.name, "the name", 200)?;
    if input.hourly_rate.is_some_and(|r| !r.is_finite() || r < 0.0) {
        return Err(AppError::invalid("the rate must be a positive number"));
    }
    Ok((name, forms::opt_text(input.description.clone())))
}

/// Checks that a project's client exists and is not archived.
pub(crate) fn check_client(conn: &Connection, client_id: Option<i64>) -> Result<(), AppError> {
    if let Some(client_id) = client_id {
        match clients::find_client(conn, client_id)? {
            None => return Err(AppError::invalid("the client does not exist")),
            Some(client) if client.archived => {
                return Err(AppError::invalid("the client is archived"));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Creates a project.
pub async fn create_project(
    state: &AppState,
    user: &User,
    input: ProjectInput,
) -> Result<Project, AppError> {
    let (name, description) = validate(&input)?;
    let project = state
        .db
        .call(move |conn| {
            check_client(conn, input.client_id)?;
            conn.execute(
                "INSERT INTO projects (name, client_id, billable, hourly_rate, description, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    name,
                    input.client_id,
                    input.billable,
                    input.hourly_rate,
                    description,
                    crate::db::now()
                ],
            )?;
            find_project(conn, conn.last_insert_rowid())?.ok_or(AppError::NotFound("project"))
        })
        .await?;
    track!(
        "project.created",
        description = "A project was created. Its name and description are never sent.",
        distinct_id = user.id,
        props(
            project_id: i64 = project.id,
            has_client = project.client_id.is_some(),
            billable: bool = project.billable
        )
    );
    Ok(project)
}

// --- HTML ------------------------------------------------------------------------------------

async fn projects_page(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<views::Page, HtmlError> {
    let (projects, clients) = state
        .db
        .call(|conn| Ok((list_projects(conn)?, clients::list_clients(conn, true)?)))
        .await?;
    let client_name = |id: Option<i64>| {
        id.and_then(|id| clients.iter().find(|c| c.id == id))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let csrf = session.csrf_token();
    let body = html! {
        h1 { "Projects" }
        table #projects {
            thead { tr { th { "Name" } th { "Client" } th { "Billable" } th { "Rate" } } }
            tbody {
                @for project in &projects {
                    tr data-project-id=(project.id) {
                        td {
                            a href={ "/projects/" (project.id) } { (project.name) }
                            @if project.archived { " " span.muted { "(archived)" } }
                        }
                        td { (client_name(project.client_id)) }
                        td { @if project.billable { "yes" } @else { "no" } }
                        td { @if let Some(rate) = project.hourly_rate { (format!("{rate:.2}")) } }
                    }
                }
            }
        }
        section {
            h2 { "New project" }
            form #new-project-form method="post" action="/projects" {
                (views::csrf_input(&csrf))
                label { "Name " input type="text" name="name" required; }
                label { "Client "
                    select name="client_id" {
                        option value="" { "— none —" }
                        @for client in clients.iter().filter(|c| !c.archived) {
                            option value=(client.id) { (client.name) }
                        }
                    }
                }
                label { input type="checkbox" name="billable" value="on"; " Billable" }
                label { "Hourly rate " input type="number" name="hourly_rate" step="0.01" min="0"; }
                label { "Description " textarea name="description" rows="2" {} }
                button type="submit" { "Create project" }
            }
        }
    };
    Ok(views::page("Projects", Some(&user), Some(&csrf), body))
}

async fn project_page(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<views::Page, HtmlError> {
    let (project, tasks, comments, clients) = state
        .db
        .call(move |conn| {
            let project = find_project(conn, id)?.ok_or(AppError::NotFound("project"))?;
            let tasks = tasks::list_tasks(conn, Some(id))?;
            let comments = comments::list_comments(conn, CommentTarget::Project, id)?;
            Ok((
                project,
                tasks,
                comments,
                clients::list_clients(conn, false)?,
            ))
        })
        .await?;
    let csrf = session.csrf_token();
    let body = html! {
        h1 { (project.name) @if project.archived { " " span.badge.off #project-archived { "archived" } } }
        @if let Some(description) = &project.description { p { (description) } }
        details #edit-project {
            summary { "Edit, archive or delete" }
            form #edit-project-form method="post" action={ "/projects/" (project.id) "/edit" } {
                (views::csrf_input(&csrf))
                label { "Name " input type="text" name="name" value=(project.name) required; }
                label { "Client "
                    select name="client_id" {
                        option value="" { "— none —" }
                        @for client in &clients {
                            option value=(client.id) selected[project.client_id == Some(client.id)] { (client.name) }
                        }
                    }
                }
                label { input type="checkbox" name="billable" value="on" checked[project.billable]; " Billable" }
                label { "Hourly rate " input type="number" name="hourly_rate" step="0.01" min="0"
                    value=(project.hourly_rate.map(|r| r.to_string()).unwrap_or_default()); }
                label { "Description " textarea name="description" rows="2" { (project.description.as_deref().unwrap_or("")) } }
                button type="submit" { "Save project" }
            }
            @if !project.archived {
                form.inline #archive-project-form method="post" action={ "/projects/" (project.id) "/archive" } {
                    (views::csrf_input(&csrf))
                    button.secondary type="submit" { "Archive project" }
                }
            }
            " "
            form.inline #delete-project-form method="post" action={ "/projects/" (project.id) "/delete" } {
                (views::csrf_input(&csrf))
                button.danger type="submit" { "Delete project" }
            }
        }
        section #tasks {
            h2 { "Tasks" }
            table {
                thead { tr { th { "Task" } th { "Priority" } th { "Status" } } }
                tbody {
                    @for task in &tasks {
                        tr data-task-id=(task.id) {
                            td { (task.name) }
                            td { (task.priority) }
                            td {
                                form.inline method="post" action={ "/tasks/" (task.id) "/status" } {
                                    (views::csrf_input(&csrf))
                                    select name="status" {
                                        @for status in TaskStatus::ALL {
                                            option value=(status) selected[*status == task.status] { (status) }
                                        }
                                    }
                                    " "
                                    button.secondary type="submit" { "Set" }
                                }
                            }
                        }
                    }
                }
            }
            form #new-task-form method="post" action={ "/projects/" (project.id) "/tasks" } {
                (views::csrf_input(&csrf))
                label { "New task " input type="text" name="name" required; }
                label { "Priority "
                    select name="priority" {
                        @for priority in TaskPriority::ALL {
                            option value=(priority) selected[*priority == TaskPriority::Medium] { (priority) }
                        }
                    }
                }
                button type="submit" { "Add task" }
            }
        }
        section #comments {
            h2 { "Comments" }
            @for comment in &comments {
                article.card data-comment-id=(comment.id) {
                    p { (comment.body) }
                    p.muted { (comment.created_at) }
                }
            }
            form #new-comment-form method="post" action="/comments" {
                (views::csrf_input(&csrf))
                input type="hidden" name="project_id" value=(project.id);
                label { textarea name="body" rows="3" required {} }
                button type="submit" { "Comment" }
            }
        }
    };
    Ok(views::page(&project.name, Some(&user), Some(&csrf), body))
}

#[derive(Debug, Deserialize)]
struct ProjectForm {
    #[serde(default)]
    name: String,
    client_id: Option<String>,
    billable: Option<String>,
    hourly_rate: Option<String>,
    description: Option<String>,
}

async fn create_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(form): Form<ProjectForm>,
) -> Result<Redirect, HtmlError> {
    let input = ProjectInput {
        name: form.name,
        client_id: forms::opt_id(form.client_id.as_deref(), "the client")?,
        billable: forms::checkbox(form.billable.as_deref()),
        hourly_rate: forms::opt_f64(form.hourly_rate.as_deref(), "the rate")?,
        description: form.description,
    };
    let project = create_project(&state, &user, input).await?;
    Ok(Redirect::to(&format!("/projects/{}", project.id)))
}

// --- JSON ------------------------------------------------------------------------------------

async fn api_list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<Vec<Project>>, AppError> {
    Ok(Json(state.db.call(|conn| list_projects(conn)).await?))
}

async fn api_get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Project>, AppError> {
    let project = state.db.call(move |conn| find_project(conn, id)).await?;
    Ok(Json(project.ok_or(AppError::NotFound("project"))?))
}

async fn api_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<ProjectInput>,
) -> Result<(StatusCode, Json<Project>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(create_project(&state, &user, input).await?),
    ))
}

/// Routes: `/projects…` (HTML) and `/api/projects…` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(projects_page).post(create_submit))
        .route("/projects/{id}", get(project_page))
        .route("/api/projects", get(api_list).post(api_create))
        .route("/api/projects/{id}", get(api_get))
}
