//! The local sink: events appended to a JSONL file, exactly as they would be sent.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Sink, SinkError};
use crate::wire::WireEvent;

/// Appends one JSON object per line to a file (default `logs/telemetry.jsonl`).
///
/// ```
/// use telemetry_core::sink::{JsonlSink, Sink};
/// let dir = std::env::temp_dir().join(format!("jsonl-doc-{}", std::process::id()));
/// let mut sink = JsonlSink::new(dir.join("telemetry.jsonl"));
/// sink.send(&[]).unwrap();
/// assert_eq!(sink.path(), dir.join("telemetry.jsonl"));
/// ```
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    file: Option<File>,
}

impl JsonlSink {
    /// A sink writing to `path`; the file and its directory are created on the first send.
    pub fn new(path: impl Into<PathBuf>) -> JsonlSink {
        JsonlSink {
            path: path.into(),
            file: None,
        }
    }

    /// The file events are appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn file(&mut self) -> Result<&mut File, SinkError> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SinkError::new(format!("create {}: {e}", dir.display())))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| SinkError::new(format!("open {}: {e}", self.path.display())))?;
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }
}

impl Sink for JsonlSink {
    fn kind(&self) -> &'static str {
        "jsonl"
    }

    fn target(&self) -> Option<String> {
        Some(self.path.display().to_string())
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        if events.is_empty() {
            return Ok(());
        }
        // One write per batch keeps lines whole even if another process appends too.
        let mut buf = BufWriter::new(Vec::with_capacity(events.len() * 256));
        for event in events {
            serde_json::to_writer(&mut buf, event).map_err(|e| SinkError::new(e.to_string()))?;
            buf.write_all(b"\n")
                .map_err(|e| SinkError::new(e.to_string()))?;
        }
        let bytes = buf
            .into_inner()
            .map_err(|e| SinkError::new(e.to_string()))?;
        let result = self.file()?.write_all(&bytes);
        if let Err(e) = result {
            self.file = None; // reopen next time (the file may have been rotated away)
            return Err(SinkError::new(format!(
                "write {}: {e}",
                self.path.display()
            )));
        }
        Ok(())
    }
}
