//! Account management for admins: list, create, activate and deactivate, promote and demote,
//! delete users.
//!
//! The `admin.user_*` events say what an admin did, never to whom: no id, name or hash of the
//! account changed is sent.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use maud::html;
use serde::Deserialize;
use telemetry_core::track;

use crate::auth::{self, AdminUser, Session, User};
use crate::error::{AppError, HtmlError};
use crate::models::UserChange;
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
pub async fn create_user(state: &AppState, admin: &User, input: NewUser) -> Result<User, AppError> {
    auth::validate_credentials(&input.username, &input.password)?;
    let hash = auth::hash_password_async(state.password_cost, input.password).await?;
    let username = input.username;
    let is_admin = input.is_admin;
    let user = state
        .db
        .call(move |conn| auth::insert_user(conn, &username, &hash, is_admin))
        .await?;
    tracing::info!(user_id = user.id, is_admin, "user created");
    track!(
        "admin.user_created",
        description = "An admin created an account, with whether it is an administrator. \
                       Nothing about the account itself is sent.",
        distinct_id = admin.id,
        props(is_admin: bool = user.is_admin)
    );
    Ok(user)
}

/// What to change about an account: exactly one of the fields.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct UserPatch {
    /// Activate or deactivate.
    #[serde(default)]
    pub active: Option<bool>,
    /// Make or unmake an administrator.
    #[serde(default)]
    pub is_admin: Option<bool>,
}

impl UserPatch {
    fn change(self) -> Result<UserChange, AppError> {
        match (self.active, self.is_admin) {
            (Some(true), None) => Ok(UserChange::Activated),
            (Some(false), None) => Ok(UserChange::Deactivated),
            (None, Some(true)) => Ok(UserChange::PromotedToAdmin),
            (None, Some(false)) => Ok(UserChange::DemotedFromAdmin),
            _ => Err(AppError::invalid(
                "change exactly one of `active` and `is_admin`",
            )),
        }
    }
}

/// Changes an account; deactivation ends its sessions. An admin cannot deactivate or demote
/// their own account. Asking for what already holds changes nothing and sends nothing.
pub async fn update_user(
    state: &AppState,
    admin: &User,
    user_id: i64,
    patch: UserPatch,
) -> Result<User, AppError> {
    let change = patch.change()?;
    if user_id == admin.id
        && matches!(
            change,
            UserChange::Deactivated | UserChange::DemotedFromAdmin
        )
    {
        return Err(AppError::invalid(
            "you cannot deactivate or demote your own account",
        ));
    }
    let (user, changed) = state
        .db
        .call(move |conn| {
            let before = auth::find_user(conn, user_id)?.ok_or(AppError::NotFound("user"))?;
            let (column, value, current) = match change {
                UserChange::Activated | UserChange::Deactivated => {
                    ("active", change == UserChange::Activated, before.active)
                }
                UserChange::PromotedToAdmin | UserChange::DemotedFromAdmin => (
                    "is_admin",
                    change == UserChange::PromotedToAdmin,
                    before.is_admin,
                ),
            };
            if current == value {
                return Ok((before, false));
            }
            conn.execute(
                &format!("UPDATE users SET {column} = ?1 WHERE id = ?2"),
                rusqlite::params![value, user_id],
            )?;
            let after = auth::find_user(conn, user_id)?.ok_or(AppError::NotFound("user"))?;
            Ok((after, true))
        })
        .await?;
    if !changed {
        return Ok(user);
    }
    if change == UserChange::Deactivated {
        state.sessions.end_sessions_of(user_id);
    }
    tracing::info!(user_id, change = change.as_str(), "user changed");
    track!(
        "admin.user_updated",
        description = "An admin changed an account: what changed, never which account.",
        distinct_id = admin.id,
        props(change: UserChange = change)
    );
    Ok(user)
}

/// Deletes an account that has no time entries, tasks or comments (deactivate the others, so
/// nobody's tracked time vanishes). An admin cannot delete their own account.
pub async fn delete_user(state: &AppState, admin: &User, user_id: i64) -> Result<(), AppError> {
    if user_id == admin.id {
        return Err(AppError::invalid("you cannot delete your own account"));
    }
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if auth::find_user(&tx, user_id)?.is_none() {
                return Err(AppError::NotFound("user"));
            }
            let records: i64 = tx.query_row(
                "SELECT (SELECT COUNT(*) FROM time_entries WHERE user_id = ?1)
                      + (SELECT COUNT(*) FROM tasks WHERE created_by = ?1)
                      + (SELECT COUNT(*) FROM comments WHERE user_id = ?1)",
                [user_id],
                |row| row.get(0),
            )?;
            if records > 0 {
                return Err(AppError::Conflict(
                    "the account has time entries, tasks or comments; deactivate it instead"
                        .to_owned(),
                ));
            }
            tx.execute("DELETE FROM users WHERE id = ?1", [user_id])?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    state.sessions.end_sessions_of(user_id);
    tracing::info!(user_id, "user deleted");
    track!(
        "admin.user_deleted",
        description = "An admin deleted an account. Nothing about the account is sent.",
        distinct_id = admin.id
    );
    Ok(())
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
                                " "
                                form.inline method="post" action={ "/admin/users/" (user.id) "/admin" } {
                                    (views::csrf_input(&csrf))
                                    input type="hidden" name="is_admin" value=(!user.is_admin);
                                    button.secondary type="submit" {
                                        @if user.is_admin { "Make user" } @else { "Make admin" }
                                    }
                                }
                                " "
                                form.inline method="post" action={ "/admin/users/" (user.id) "/delete" } {
                                    (views::csrf_input(&csrf))
                                    button.danger type="submit" { "Delete" }
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
    AdminUser(admin): AdminUser,
    Form(form): Form<NewUserForm>,
) -> Result<Redirect, HtmlError> {
    let input = NewUser {
        username: form.username,
        password: form.password,
        is_admin: form.is_admin.is_some(),
    };
    create_user(&state, &admin, input).await?;
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
    let patch = UserPatch {
        active: Some(form.active),
        ..UserPatch::default()
    };
    update_user(&state, &admin, id, patch).await?;
    Ok(Redirect::to("/admin/users"))
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    is_admin: bool,
}

async fn role_submit(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Redirect, HtmlError> {
    let patch = UserPatch {
        is_admin: Some(form.is_admin),
        ..UserPatch::default()
    };
    update_user(&state, &admin, id, patch).await?;
    Ok(Redirect::to("/admin/users"))
}

async fn delete_submit(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<Redirect, HtmlError> {
    delete_user(&state, &admin, id).await?;
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
    AdminUser(admin): AdminUser,
    Json(input): Json<NewUser>,
) -> Result<(StatusCode, Json<User>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(create_user(&state, &admin, input).await?),
    ))
}

async fn api_patch(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> Result<Json<User>, AppError> {
    Ok(Json(update_user(&state, &admin, id, patch).await?))
}

async fn api_delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_user(&state, &admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Routes: `/admin/users…` (HTML), `/api/users…` (JSON).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_user_submit))
        .route("/admin/users/{id}/active", post(active_submit))
        .route("/admin/users/{id}/admin", post(role_submit))
        .route("/admin/users/{id}/delete", post(delete_submit))
        .route("/api/users", get(api_list).post(api_create))
        .route(
            "/api/users/{id}",
            axum::routing::patch(api_patch).delete(api_delete),
        )
}
