//! The app's instrumented actions. Each `///` comment is what the transparency document shows.

use std::time::Duration;

use telemetry_core::{PropertyValue, track, track_event};

/// The formats an export can have; sent as one of these words, never as free text.
#[derive(Debug, Clone, Copy, PropertyValue)]
pub enum ExportFormat {
    /// Comma-separated values.
    Csv,
    /// A spreadsheet.
    Excel,
}

/// A project in this toy app. Its name never leaves the process.
#[derive(Debug)]
pub struct Project {
    /// Database id.
    pub id: u64,
    /// Free text: never sent.
    pub name: String,
    /// Whether time on it is billable.
    pub billable: bool,
}

/// A user signed in with a password.
#[track_event("auth.login", on = "success", distinct_id = user_id, props(auth_method = "password"))]
pub fn login(user_id: u64, password_ok: bool) -> Result<u64, &'static str> {
    if password_ok {
        Ok(user_id)
    } else {
        Err("wrong password")
    }
}

/// A project was created.
#[track_event("project.created", on = "success", props(project_id = id, billable = billable))]
pub fn create_project(id: u64, name: &str, billable: bool) -> Result<Project, String> {
    if name.trim().is_empty() {
        return Err("a project needs a name".into());
    }
    Ok(Project {
        id,
        name: name.to_owned(),
        billable,
    })
}

/// A timer was started on a project.
#[track_event("timer.started", props(project_id = project.id, has_description = !note.is_empty()))]
pub fn start_timer(project: &Project, note: &str) -> u64 {
    project.id * 100 + note.len() as u64
}

/// A running timer was stopped; the duration is sent in whole seconds.
#[track_event(
    "timer.stopped",
    props(time_entry_id = entry_id, project_id = project.id, duration_seconds = elapsed.as_secs())
)]
pub fn stop_timer(entry_id: u64, project: &Project, elapsed: Duration) -> u64 {
    elapsed.as_secs()
}

/// Exports time entries to a file.
pub fn export(format: ExportFormat, rows: usize) -> usize {
    // The row count is only known once the export ran, so the capture sits inside the body.
    let written = rows;
    track!(
        "export.csv",
        description = "Time entries were exported; the format and the number of rows are sent.",
        props(export_type: ExportFormat = format, num_rows: usize = written)
    );
    written
}
