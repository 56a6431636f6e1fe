//! The one place the app calls the toolkit's runtime API (install, status, consent).
//!
//! Handlers never touch the pipeline: they are annotated with `#[track_event]` or call
//! `track!`, and the installed [`Telemetry`] decides whether anything is sent.

use std::path::Path;

pub use telemetry_core::Status;
pub use telemetry_core::Telemetry;

/// Installs telemetry for the app. The install state (consent, salt, last pings) lives in
/// `<data dir>/telemetry` unless `TELEMETRY_STATE_DIR` says otherwise, so a fresh
/// `TIMETRACKER_DATA_DIR` is a fresh install. Never panics; reads `ENABLE_TELEMETRY`,
/// `DO_NOT_TRACK`, `POSTHOG_API_KEY`, `POSTHOG_HOST`, `TELEMETRY_DEBUG` and `APP_VERSION`.
pub fn install(data_dir: &Path) -> Telemetry {
    let mut builder = Telemetry::builder().app("timetracker", env!("CARGO_PKG_VERSION"));
    if std::env::var_os("TELEMETRY_STATE_DIR").is_none() {
        builder = builder.state_dir(data_dir.join("telemetry"));
    }
    builder.install()
}

/// The toolkit's status, for the admin page and `/metrics`.
pub fn status(telemetry: &Telemetry) -> Status {
    telemetry.status()
}

/// Persists the admin's decision and applies it at once.
pub fn set_consent(telemetry: &Telemetry, enabled: bool) {
    telemetry.set_consent(enabled);
    tracing::info!(enabled, "telemetry consent changed");
}
