//! Reading, parsing and atomically writing the state file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use serde_json::Value;

use super::{InstallState, STATE_FILE_NAME};

pub(super) enum Read {
    /// The state, and whether it should be written back (something was filled in).
    Found(InstallState, bool),
    Missing,
    Corrupt(String),
    Failed(io::Error),
}

pub(super) fn read_state(path: &Path) -> Read {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Read::Missing,
        Err(e) => return Read::Failed(e),
    };
    match parse_state(&bytes) {
        Ok((state, needs_write)) => Read::Found(state, needs_write),
        Err(reason) => Read::Corrupt(reason),
    }
}

pub(super) fn parse_state(bytes: &[u8]) -> Result<(InstallState, bool), String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => e.to_string(),
        _ => format!("not valid JSON: {e}"),
    })?;
    let Value::Object(object) = &value else {
        return Err("not a JSON object".to_owned());
    };
    let missing_salt = !object.contains_key("salt");
    let mut state: InstallState = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let changed = state.normalize();
    Ok((state, missing_salt || changed))
}

pub(super) fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| STATE_FILE_NAME.to_owned());
    let mut aside = path.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        aside = path.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    fs::rename(path, &aside)?;
    Ok(aside)
}

/// Writes `state` to `path` atomically: a new temporary file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced (best effort).
pub(super) fn write_atomic(path: &Path, state: &InstallState) -> io::Result<()> {
    let mut json = serde_json::to_vec_pretty(state).map_err(io::Error::other)?;
    json.push(b'\n');
    let dir = path.parent().unwrap_or(Path::new("."));
    let (tmp_path, mut tmp) = create_temp(dir)?;
    let written = tmp
        .write_all(&json)
        .and_then(|()| tmp.sync_all())
        .and_then(|()| {
            drop(tmp);
            fs::rename(&tmp_path, path)
        });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

pub(super) fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let name = format!(
            ".{STATE_FILE_NAME}.{}.{}.tmp",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let tmp_path = dir.join(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The file holds the salt: readable by its owner only.
            options.mode(0o600);
        }
        match options.open(&tmp_path) {
            Ok(file) => return Ok((tmp_path, file)),
            // A leftover from a crashed process with a recycled pid: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

pub(super) fn probe_writable(dir: &Path) -> io::Result<()> {
    let (tmp_path, file) = create_temp(dir)?;
    drop(file);
    fs::remove_file(tmp_path)
}

#[cfg(unix)]
pub(super) fn sync_dir(dir: &Path) {
    // Makes the rename itself durable; not all file systems support it, so errors are ignored.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
pub(super) fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Consent, SCHEMA_VERSION, Salt};

    #[test]
    fn missing_identity_is_filled_and_written_back() {
        let (state, needs_write) = parse_state(br#"{"consent": null}"#).unwrap();
        assert!(needs_write);
        assert_eq!(state.schema_version, SCHEMA_VERSION);
        assert!(!state.install_id.is_empty());
        assert_eq!(state.salt.as_bytes().len(), Salt::LEN);
    }

    #[test]
    fn complete_state_needs_no_write_and_round_trips_exactly() {
        let mut state = InstallState::new();
        let now = Utc::now();
        state.consent = Some(Consent::new(true, "api", now));
        state.health_sent_at = Some(now);
        let json = serde_json::to_vec(&state).unwrap();
        let (read, needs_write) = parse_state(&json).unwrap();
        assert!(!needs_write);
        assert_eq!(read, state);
    }

    #[test]
    fn newer_schema_and_unknown_keys_are_kept() {
        let mut value = serde_json::to_value(InstallState::new()).unwrap();
        value["schema_version"] = 7.into();
        value["future_key"] = serde_json::json!({"a": [1, 2]});
        value["consent"] = serde_json::json!({
            "enabled": true, "decided_at": "2026-01-02T03:04:05+02:00", "source": "setup", "by": "x"
        });
        let (state, _) = parse_state(value.to_string().as_bytes()).unwrap();
        assert_eq!(state.schema_version, 7);
        let consent = state.consent.as_ref().unwrap();
        assert_eq!(consent.decided_at.to_rfc3339(), "2026-01-02T01:04:05+00:00");
        let out = serde_json::to_value(&state).unwrap();
        assert_eq!(out["future_key"], value["future_key"]);
        assert_eq!(out["consent"]["by"], "x");
        assert_eq!(out["consent"]["decided_at"], "2026-01-02T01:04:05Z");
    }

    #[test]
    fn malformed_content_is_corrupt() {
        for bad in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            br#"{"salt": "not hex"}"#,
            br#"{"salt": ""}"#,
            br#"{"install_sent_at": "yesterday"}"#,
            br#"{"schema_version": "one"}"#,
        ] {
            assert!(
                parse_state(bad).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn salt_errors_do_not_quote_the_salt() {
        let err = parse_state(br#"{"salt": "secretsecretsecretsecretzz"}"#).unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
