//! The crate's one way to warn (or inform) an operator.
//!
//! Telemetry must never fail the application, so problems (a corrupt state file, an unwritable
//! directory, a bad switch value) become warnings. They go through `tracing` when the
//! application has a subscriber, and to stderr otherwise, so they are never lost silently.

/// Emits one warning: `tracing::warn!` (target `telemetry_core`) when a `tracing` subscriber is
/// active for this thread, else one `telemetry: warning: ...` line on stderr.
///
/// `tracing::dispatcher::has_been_set()` alone is not enough: it stays true after a scoped
/// subscriber (`with_default`) on some other thread, which would send this thread's warnings
/// to the no-op subscriber. So the current dispatcher is checked as well.
pub(crate) fn warn(msg: &str) {
    if subscriber_active() {
        tracing::warn!(target: "telemetry_core", "{msg}");
    } else {
        eprintln!("telemetry: warning: {msg}");
    }
}

/// Emits one informational note (for example, "delivery recovered"): `tracing::info!` (target
/// `telemetry_core`) when a `tracing` subscriber is active for this thread, else one
/// `telemetry: ...` line on stderr.
pub(crate) fn info(msg: &str) {
    if subscriber_active() {
        tracing::info!(target: "telemetry_core", "{msg}");
    } else {
        eprintln!("telemetry: {msg}");
    }
}

fn subscriber_active() -> bool {
    tracing::dispatcher::has_been_set()
        && tracing::dispatcher::get_default(|d| !d.is::<tracing::subscriber::NoSubscriber>())
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_subscriber_means_stderr() {
        // No subscriber is installed on this thread.
        assert!(!super::subscriber_active());
        super::warn("this goes to stderr");
        super::info("so does this");
    }
}
