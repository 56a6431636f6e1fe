//! The local sink: events appended to a JSONL file, exactly as they would be sent.
//!
//! On Unix the file is created owner-only (0600) and never opened through a symlink
//! (`O_NOFOLLOW`): a link planted at the log's path cannot redirect events into another file.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{Sink, SinkError};
use crate::wire::WireEvent;

/// Appends one JSON object per line to a file (default `logs/telemetry.jsonl`).
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

    fn file(&mut self) -> Result<&mut File, SinkError> {
        if self.file.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SinkError::new(format!("create {}: {e}", dir.display())))?;
            }
            let file = open_private(&self.path)
                .map_err(|e| SinkError::new(format!("open {}: {e}", self.path.display())))?;
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("opened above"))
    }
}

/// Opens `path` for appending, creating it owner-only, refusing a symlink.
fn open_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::other("the path is a symlink"));
    }
    options.open(path)
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn an_empty_batch_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/telemetry.jsonl");
        let mut sink = JsonlSink::new(&path);
        sink.send(&[]).unwrap();
        assert!(!path.exists());
        assert_eq!(sink.target(), Some(path.display().to_string()));
    }

    #[test]
    fn the_log_is_created_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/telemetry.jsonl");
        JsonlSink::new(&path).send(&[WireEvent::sample()]).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }

    #[test]
    fn a_symlink_at_the_log_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, "precious\n").unwrap();
        let path = dir.path().join("telemetry.jsonl");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let error = JsonlSink::new(&path)
            .send(&[WireEvent::sample()])
            .unwrap_err();
        assert!(error.to_string().contains("open"), "{error}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    }
}
