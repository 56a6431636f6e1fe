//! Account management for admins: list, create, activate and deactivate users.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use serde::Deserialize;

use crate::auth::{self, AdminUser, Session, User};
use crate::error::{AppError, HtmlError};
use crate::state::AppState;
use crate::views;

/// A new account.
#[derive(Debug, Deserialize)]
pub struct NewUser {
    /// The login name.
    #[serde(default)]
    pub username: String,
    /// The password (at least 8 characters).
    #[serde(default)]
    pub password: String,
    /// Whether the account may open the admin pages.
    #[serde(default)]
    pub is_admin: bool,
}

/// Creates an account.
pub async fn create_user(state: &AppState, input: NewUser) -> Result<User, AppError> {
    auth::validate_credentials(&input.username, &input.password)?;
    let hash = auth::hash_password_async(state.password_cost, input.password).await?;
    let username = input.username;
    let is_admin = input.is_admin;
    let user = state
        .db
        .call(move |conn| auth::insert_user(conn, &username, &hash, is_admin))
        .await?;
    tracing::info!(user_id = user.id, is_admin, "user created");
    Ok(user)
}

/// Activates or deactivates an account; deactivation ends its sessions. An admin cannot
/// deactivate their own account.
pub async fn set_active(
    state: &AppState,
    admin: &User,
    user_id: i64,
    active: bool,
) -> Result<User, AppError> {
    if user_id == admin.id && !active {
        return Err(AppError::invalid("you cannot deactivate your own account"));
    }
    let user = state
        .db
        .call(move |conn| {
            let changed = conn.execute(
                "UPDATE users SET active = ?1 WHERE id = ?2",
                rusqlite::params![active, user_id],
            )?;
            if changed == 0 {
                return Err(AppError::NotFound("user"));
            }
            auth::find_user(conn, user_id)?.ok_or(AppError::NotFound("user"))
        })
        .await?;
    if !active {
        state.sessions.end_sessions_of(user_id);
    }
    tracing::info!(user_id, active, "user activation changed");
    Ok(user)
}

async fn users_page(
    State(state): State<AppState>,
    session: Session,
    AdminUser(admin): AdminUser,
) -> Result<views::Page, HtmlError> {
    let users = state.db.call(|conn| auth::list_users(conn)).await?;
    let csrf = session.csrf_token();
    let body = html! {
        h1 { "Users" }
        table #users {
            thead { tr { th { "Username" } th { "Role" } th { "Status" } th {} } }
            tbody {
                @for user in &users {
                    tr {
                        td { (user.username) }
                        td { @if user.is_admin { "admin" } @else { "user" } }
                        td { @if user.active { "active" } @else { "deactivated" } }
                        td {
                            @if user.id != admin.id {
                                form.inline method="post" action={ "/admin/users/" (user.id) "/active" } {
                                    (views::csrf_input(&csrf))
                                    input type="hidden" name="active" value=(!user.active);
                                    button.secondary type="submit" {
                                        @if user.active { "Deactivate" } @else { "Activate" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Add a user" }
            form #new-user-form method="post" action="/admin/users" {
                (views::csrf_input(&csrf))
                label { "Username " input type="text" name="username" required; }
                label { "Password " input type="password" name="password" minlength="8" required; }
                label { input type="checkbox" name="is_admin" value="true"; " Administrator" }
                button type="submit" { "Add user" }
            }
        }
    };
    Ok(views::page("Users", Some(&admin), Some(&csrf), body))
}

#[derive(Debug, Deserialize)]
struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    is_admin: Option<String>,
}

async fn create_user_submit(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Form(form): Form<NewUserForm>,
) -> Result<Redirect, HtmlError> {
    let input = NewUser {
        username: form.username,
        password: form.password,
        is_admin: form.is_admin.is_some(),
    };
    create_user(&state, input).await?;
    Ok(Redirect::to("/admin/users"))
}

#[derive(Debug, Deserialize)]
struct ActiveForm {
    active: bool,
}

async fn active_submit(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<ActiveForm>,
) -> Result<Redirect, HtmlError> {
    set_active(&state, &admin, id, form.active).await?;
    Ok(Redirect::to("/admin/users"))
}

async fn api_list(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
) -> Result<Json<Vec<User>>, AppError> {
    Ok(Json(state.db.call(|conn| auth::list_users(conn)).await?))
}

async fn api_create(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Json(input): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), AppError> {
    Ok((StatusCode::CREATED, Json(create_user(&state, input).await?)))
}

/// The JSON body of `PATCH /api/users/{id}`.
#[derive(Debug, Deserialize)]
pub struct UserPatch {
    /// Activate or deactivate.
    pub active: bool,
}

async fn api_patch(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> Result<Json<User>, AppError> {
    Ok(Json(set_active(&state, &admin, id, patch.active).await?))
}

/// Routes: `/admin/users`, `/api/users`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user_submit))
        .route("/admin/users/{id}/active", post(active_submit))
        .route("/api/users", get(api_list).post(api_create))
        .route("/api/users/{id}", axum::routing::patch(api_patch))
}
