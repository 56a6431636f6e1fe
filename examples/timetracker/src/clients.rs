//! Clients: the customers projects are billed to.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use telemetry_core::{track, track_event};

use crate::auth::{CurrentUser, Session, User};
use crate::error::{AppError, HtmlError};
use crate::forms;
use crate::state::AppState;
use crate::views;

/// A client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Client {
    /// The record id.
    pub id: i64,
    /// The client's name.
    pub name: String,
    /// A contact address (stored, never sent as telemetry).
    pub email: Option<String>,
    /// The default hourly rate for its projects.
    pub default_rate: Option<f64>,
    /// Archived clients are hidden from pickers.
    pub archived: bool,
    /// When it was created (RFC 3339).
    pub created_at: String,
}

/// The fields of a new or edited client.
#[derive(Debug, Clone, Deserialize)]
pub struct ClientInput {
    /// The client's name (required).
    #[serde(default)]
    pub name: String,
    /// A contact address.
    #[serde(default)]
    pub email: Option<String>,
    /// The default hourly rate.
    #[serde(default)]
    pub default_rate: Option<f64>,
}

impl ClientInput {
    fn validated(self) -> Result<ClientInput, AppError> {
        let name = forms::required_text(&self.name, "the name", 200)?;
        let email = forms::opt_text(self.email);
        if email
            .as_deref()
            .is_some_and(|e| !e.contains('@') || e.len() > 254)
        {
            return Err(AppError::invalid("the e-mail address is not valid"));
        }
        if self.default_rate.is_some_and(|r| !r.is_finite() || r < 0.0) {
            return Err(AppError::invalid("the rate must be a positive number"));
        }
        Ok(ClientInput {
            name,
            email,
            default_rate: self.default_rate,
        })
    }
}

const COLUMNS: &str = "id, name, email, default_rate, archived, created_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Client> {
    Ok(Client {
        id: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        default_rate: row.get(3)?,
        archived: row.get(4)?,
        created_at: row.get(5)?,
    })
}

/// Loads a client.
pub fn find_client(conn: &Connection, id: i64) -> Result<Option<Client>, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = ?1");
    Ok(conn.query_row(&sql, [id], from_row).optional()?)
}

/// Lists clients by name.
pub fn list_clients(conn: &Connection, include_archived: bool) -> Result<Vec<Client>, AppError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM clients WHERE archived = 0 OR ?1 ORDER BY name COLLATE NOCASE, id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([include_archived], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Creates a client.
pub async fn create_client(
    state: &AppState,
    user: &User,
    input: ClientInput,
) -> Result<Client, AppError> {
    let input = input.validated()?;
    let client = state
        .db
        .call(move |conn| {
            conn.execute(
                "INSERT INTO clients (name, email, default_rate, archived, created_at)
                 VALUES (?1, ?2, ?3, 0, ?4)",
                params![
                    input.name,
                    input.email,
                    input.default_rate,
                    crate::db::now()
                ],
            )?;
            find_client(conn, conn.last_insert_rowid())?.ok_or(AppError::NotFound("client"))
        })
        .await?;
    track!(
        "client.created",
        description = "A client was created.",
        distinct_id = user.id,
        props(client_id: i64 = client.id)
    );
    Ok(client)
}

/// A client's details were changed.
#[track_event("client.updated", on = "success", distinct_id = user.id, props(client_id = id))]
pub async fn update_client(
    state: &AppState,
    user: &User,
    id: i64,
    input: ClientInput,
) -> Result<Client, AppError> {
    let input = input.validated()?;
    state
        .db
        .call(move |conn| {
            let changed = conn.execute(
                "UPDATE clients SET name = ?1, email = ?2, default_rate = ?3 WHERE id = ?4",
                params![input.name, input.email, input.default_rate, id],
            )?;
            if changed == 0 {
                return Err(AppError::NotFound("client"));
            }
            find_client(conn, id)?.ok_or(AppError::NotFound("client"))
        })
        .await
}

/// A client was archived (hidden from pickers, its projects and history kept).
#[track_event("client.archived", on = "success", distinct_id = user.id, props(client_id = id))]
pub async fn archive_client(state: &AppState, user: &User, id: i64) -> Result<Client, AppError> {
    state
        .db
        .call(move |conn| {
            let client = find_client(conn, id)?.ok_or(AppError::NotFound("client"))?;
            if client.archived {
                return Err(AppError::Conflict(
                    "the client is already archived".to_owned(),
                ));
            }
            conn.execute("UPDATE clients SET archived = 1 WHERE id = ?1", [id])?;
            Ok(Client {
                archived: true,
                ..client
            })
        })
        .await
}

/// A client was deleted. Only clients without projects can be deleted; archive the others.
#[track_event("client.deleted", on = "success", distinct_id = user.id, props(client_id = id))]
pub async fn delete_client(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    state
        .db
        .call(move |conn| {
            let projects: i64 = conn.query_row(
                "SELECT COUNT(*) FROM projects WHERE client_id = ?1",
                [id],
                |row| row.get(0),
            )?;
            if projects > 0 {
                return Err(AppError::Conflict(
                    "the client has projects; archive it instead".to_owned(),
                ));
            }
            if conn.execute("DELETE FROM clients WHERE id = ?1", [id])? == 0 {
                return Err(AppError::NotFound("client"));
            }
            Ok(())
        })
        .await
}

// --- HTML ------------------------------------------------------------------------------------

async fn clients_page(
    State(state): State<AppState>,
    session: Session,
    CurrentUser(user): CurrentUser,
) -> Result<views::Page, HtmlError> {
    let clients = state.db.call(|conn| list_clients(conn, true)).await?;
    let csrf = session.csrf_token();
    let body = html! {
        h1 { "Clients" }
        table #clients {
            thead { tr { th { "Name" } th { "E-mail" } th { "Rate" } th { "Status" } th {} } }
            tbody {
                @for client in &clients {
                    tr data-client-id=(client.id) {
                        td { (client.name) }
                        td { (client.email.as_deref().unwrap_or("")) }
                        td { @if let Some(rate) = client.default_rate { (format!("{rate:.2}")) } }
                        td { @if client.archived { "archived" } @else { "active" } }
                        td {
                            @if !client.archived {
                                form.inline method="post" action={ "/clients/" (client.id) "/archive" } {
                                    (views::csrf_input(&csrf))
                                    button.secondary type="submit" { "Archive" }
                                }
                            }
                            " "
                            form.inline method="post" action={ "/clients/" (client.id) "/delete" } {
                                (views::csrf_input(&csrf))
                                button.danger type="submit" { "Delete" }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "New client" }
            form #new-client-form method="post" action="/clients" {
                (views::csrf_input(&csrf))
                label { "Name " input type="text" name="name" required; }
                label { "E-mail " input type="text" name="email"; }
                label { "Default hourly rate " input type="number" name="default_rate" step="0.01" min="0"; }
                button type="submit" { "Create client" }
            }
        }
    };
    Ok(views::page("Clients", Some(&user), Some(&csrf), body))
}

#[derive(Debug, Deserialize)]
struct ClientForm {
    #[serde(default)]
    name: String,
    email: Option<String>,
    default_rate: Option<String>,
}

async fn create_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Form(form): Form<ClientForm>,
) -> Result<Redirect, HtmlError> {
    let input = ClientInput {
        name: form.name,
        email: form.email,
        default_rate: forms::opt_f64(form.default_rate.as_deref(), "the rate")?,
    };
    create_client(&state, &user, input).await?;
    Ok(Redirect::to("/clients"))
}

async fn archive_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, HtmlError> {
    archive_client(&state, &user, id).await?;
    Ok(Redirect::to("/clients"))
}

async fn delete_submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, HtmlError> {
    delete_client(&state, &user, id).await?;
    Ok(Redirect::to("/clients"))
}

// --- JSON ------------------------------------------------------------------------------------

async fn api_list(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Result<Json<Vec<Client>>, AppError> {
    Ok(Json(state.db.call(|conn| list_clients(conn, true)).await?))
}

async fn api_get(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Client>, AppError> {
    let client = state.db.call(move |conn| find_client(conn, id)).await?;
    Ok(Json(client.ok_or(AppError::NotFound("client"))?))
}

async fn api_create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(input): Json<ClientInput>,
) -> Result<(StatusCode, Json<Client>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(create_client(&state, &user, input).await?),
    ))
}

async fn api_update(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Json(input): Json<ClientInput>,
) -> Result<Json<Client>, AppError> {
    Ok(Json(update_client(&state, &user, id, input).await?))
}

async fn api_archive(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Client>, AppError> {
    Ok(Json(archive_client(&state, &user, id).await?))
}

async fn api_delete(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_client(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes: `/clients…` (HTML) and `/api/clients…` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clients", get(clients_page).post(create_submit))
        .route("/clients/{id}/archive", post(archive_submit))
        .route("/clients/{id}/delete", post(delete_submit))
        .route("/api/clients", get(api_list).post(api_create))
        .route(
            "/api/clients/{id}",
            get(api_get).put(api_update).delete(api_delete),
        )
        .route("/api/clients/{id}/archive", post(api_archive))
}
