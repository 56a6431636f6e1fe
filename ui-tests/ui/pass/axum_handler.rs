// Axum handlers: the future stays `Send`, so they register with `routing::post`.
#![deny(warnings)]

use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use telemetry_core::{Hashed, track, track_event};

#[derive(Default)]
struct AppState {
    entries: std::sync::Mutex<Vec<u64>>,
}

/// A time entry was stopped.
#[track_event("timer.stopped", on = "success", props(project_id = project_id, seconds = body.len()))]
async fn stop_timer(
    State(state): State<Arc<AppState>>,
    Path(project_id): Path<u64>,
    Json(body): Json<Vec<u64>>,
) -> Result<Json<Vec<u64>>, StatusCode> {
    tokio::task::yield_now().await;
    let mut entries = state
        .entries
        .lock()
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    entries.extend(body);
    Ok(Json(entries.clone()))
}

/// A project page was viewed.
#[track_event("project.viewed", on = "failure", props(project_id = id), distinct_id = id)]
async fn view(Path(id): Path<u64>) -> (StatusCode, &'static str) {
    if id == 0 {
        return (StatusCode::NOT_FOUND, "missing");
    }
    track!(
        "project.opened",
        description = "A project was opened from its page.",
        props(owner = Hashed(id))
    );
    (StatusCode::OK, "ok")
}

fn main() {
    let state = Arc::new(AppState::default());
    let _app: Router = Router::new()
        .route("/projects/{project_id}/stop", post(stop_timer))
        .route("/projects/{id}", get(view))
        .with_state(state);
}
