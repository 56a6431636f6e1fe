//! The dry-run sink (`TELEMETRY_DEBUG=1`): one JSON line per event on stderr, nothing sent.

use std::io::Write;

use super::{Sink, SinkError};
use crate::wire::WireEvent;

/// Prints each event to stderr as one JSON line, prefixed with `telemetry-debug: `.
#[derive(Debug, Default)]
pub struct StderrSink;

/// The prefix of every dry-run line, so the lines can be told apart from the app's own output.
pub(crate) const PREFIX: &str = "telemetry-debug: ";

impl Sink for StderrSink {
    fn kind(&self) -> &'static str {
        "stderr"
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        let mut out = std::io::stderr().lock();
        for event in events {
            let line = serde_json::to_string(event).map_err(|e| SinkError::new(e.to_string()))?;
            writeln!(out, "{PREFIX}{line}").map_err(|e| SinkError::new(e.to_string()))?;
        }
        Ok(())
    }
}
