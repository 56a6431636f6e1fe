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
    /// Unreadable as a state; the reason, and the opt-out salvaged from it if any.
    Corrupt(String, Salvaged),
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
        Err(reason) => Read::Corrupt(reason, salvage_consent(&bytes)),
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

/// What could be read of the consent in a corrupt state file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Salvaged {
    /// An opt-out (`"consent": {"enabled": false ...}`) was readable: it is kept.
    OptOut,
    /// Nothing trustworthy: telemetry stays off until consent is given again.
    Unknown,
}

/// Looks for a persisted opt-out in a file that did not parse as a state: first as JSON (a
/// valid document with a bad field elsewhere), then leniently in the text (a truncated or
/// garbled document), taking the first `"enabled"` after a `"consent"` key. Only an opt-out is
/// salvaged: an opt-in read from a damaged file is not trusted to turn telemetry on.
pub(super) fn salvage_consent(bytes: &[u8]) -> Salvaged {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        return match value.pointer("/consent/enabled") {
            Some(Value::Bool(false)) => Salvaged::OptOut,
            _ => Salvaged::Unknown,
        };
    }
    let text = String::from_utf8_lossy(bytes);
    let mut rest = &text[..];
    while let Some(at) = rest.find("\"consent\"") {
        rest = &rest[at + "\"consent\"".len()..];
        let Some(object) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let Some(object) = object.trim_start().strip_prefix('{') else {
            continue;
        };
        // The consent object's own fields: up to its closing brace (it holds no nested
        // objects in any version written so far), or what is left of a truncated file.
        let object = &object[..object.find('}').unwrap_or(object.len())];
        if let Some(at) = object.find("\"enabled\"") {
            let value = object[at + "\"enabled\"".len()..].trim_start();
            if let Some(value) = value.strip_prefix(':')
                && value.trim_start().starts_with("false")
            {
                return Salvaged::OptOut;
            }
        }
        return Salvaged::Unknown;
    }
    Salvaged::Unknown
}

/// The fresh state that replaces a corrupt one: a new identity, with the salvaged opt-out, or
/// marked [`consent_lost`](InstallState::consent_lost) so telemetry stays off until someone
/// decides again.
pub(super) fn replacement_for_corrupt(salvaged: Salvaged) -> InstallState {
    let mut state = InstallState::new();
    apply_salvaged(&mut state, salvaged);
    state
}

/// Applies what was salvaged from a corrupt file to `state` (see [`replacement_for_corrupt`]).
pub(super) fn apply_salvaged(state: &mut InstallState, salvaged: Salvaged) {
    match salvaged {
        Salvaged::OptOut => state.record_consent(super::Consent::new(
            false,
            "recovered from a corrupt state file",
            Utc::now(),
        )),
        Salvaged::Unknown => {
            if !matches!(&state.consent, Some(c) if !c.enabled) {
                state.consent = None;
                state.consent_lost = true;
            }
        }
    }
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
        // The file holds the salt: readable by its owner only. `create_new` never follows a
        // link either; the rename then replaces a link at `install.json` instead of writing
        // through it.
        let mut options = private_file_options();
        options.write(true).create_new(true);
        match options.open(&tmp_path) {
            Ok(file) => return Ok((tmp_path, file)),
            // A leftover from a crashed process with a recycled pid: try the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Creates the state directory (and missing parents) as `0700` on Unix: only its owner can
/// list or enter it. An existing directory is left as it is.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Options that create (or open) a private file: `0600` on Unix, and never through a
/// symbolic link (`O_NOFOLLOW`), so a link planted at the path cannot redirect the write.
pub(crate) fn private_file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options
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
