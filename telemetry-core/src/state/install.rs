//! The contents of `install.json`: identity, consent, lifecycle record.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::SCHEMA_VERSION;
use super::salt::{Salt, random_install_id};
use super::time::{rfc3339, rfc3339_opt};
use crate::fingerprint::{self, Identity};

/// An operator's telemetry decision, as persisted (for example from a setup page or an admin
/// toggle).
///
/// ```
/// use telemetry_core::__private::internals::state::Consent;
///
/// let c = Consent::new(true, "admin", chrono::Utc::now());
/// assert!(c.enabled);
/// assert_eq!(c.source, "admin");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    /// Whether telemetry was turned on.
    pub enabled: bool,
    /// When the decision was made (RFC 3339 in the file).
    #[serde(with = "rfc3339")]
    pub decided_at: DateTime<Utc>,
    /// What made it, for example `"setup"`, `"admin"` or `"api"`.
    pub source: String,
    /// Keys a newer writer put in the consent object; kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Consent {
    /// A decision made now by `source`.
    ///
    /// ```
    /// let c = telemetry_core::__private::internals::state::Consent::new(false, "api", chrono::Utc::now());
    /// assert!(!c.enabled);
    /// ```
    pub fn new(enabled: bool, source: impl Into<String>, decided_at: DateTime<Utc>) -> Consent {
        Consent {
            enabled,
            decided_at,
            source: source.into(),
            extra: Map::new(),
        }
    }
}

/// The contents of `install.json`.
///
/// Missing `install_id` or `salt` are generated (and written back) when the file is read; any
/// other malformed content makes the file corrupt. `Debug` redacts the salt.
///
/// ```
/// use telemetry_core::__private::internals::state::InstallState;
///
/// let state = InstallState::new();
/// assert_eq!(state.schema_version, 1);
/// assert_eq!(state.salt.as_bytes().len(), 32);
/// assert!(state.consent.is_none() && state.last_version.is_none());
/// assert_eq!(state.distinct_id().len(), 64);
///
/// let json = serde_json::to_value(&state).unwrap();
/// assert_eq!(json["salt"].as_str().unwrap().len(), 64);
/// assert!(!format!("{state:?}").contains(json["salt"].as_str().unwrap()));
/// ```
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallState {
    /// The schema version of the file (`SCHEMA_VERSION` or higher).
    #[serde(default)]
    pub schema_version: u32,
    /// Random UUID of this install state. Never sent.
    #[serde(default)]
    pub install_id: String,
    /// Random per-install salt. Never sent.
    #[serde(default = "Salt::random")]
    pub salt: Salt,
    /// The persisted consent decision, if one was made.
    #[serde(default)]
    pub consent: Option<Consent>,
    /// The application version recorded by the last accepted lifecycle ping.
    #[serde(default)]
    pub last_version: Option<String>,
    /// When `telemetry.install` was accepted by a sink.
    #[serde(default, with = "rfc3339_opt")]
    pub install_sent_at: Option<DateTime<Utc>>,
    /// When `telemetry.update` was last accepted by a sink.
    #[serde(default, with = "rfc3339_opt")]
    pub update_sent_at: Option<DateTime<Utc>>,
    /// When `telemetry.health` was last accepted by a sink.
    #[serde(default, with = "rfc3339_opt")]
    pub health_sent_at: Option<DateTime<Utc>>,
    /// Set when a corrupt state file was replaced and its consent could not be read as an
    /// opt-out: telemetry stays off, whatever the application's default, until a consent
    /// decision is recorded again ([`InstallState::record_consent`] clears it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent_lost: bool,
    /// The last decision of the remote kill switch (`TELEMETRY_REMOTE_FLAG`), used while the
    /// flags service does not answer or does not know the flag. (Boxed: rarely set, and it
    /// would double the size of every state moved around.)
    /// An unreadable record is ignored, not a corrupt file: it only ever costs the fallback.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_remote"
    )]
    pub remote: Option<Box<RemoteRecord>>,
    /// Keys this version does not know (written by a newer version); kept on every write.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Default for InstallState {
    /// Same as [`InstallState::new`]: a fresh random identity.
    fn default() -> InstallState {
        InstallState::new()
    }
}

impl InstallState {
    /// A fresh state: new random install id and salt, no consent, nothing sent.
    ///
    /// ```
    /// use telemetry_core::__private::internals::state::InstallState;
    /// let (a, b) = (InstallState::new(), InstallState::new());
    /// assert_ne!(a.install_id, b.install_id);
    /// assert_ne!(a.salt, b.salt);
    /// ```
    pub fn new() -> InstallState {
        InstallState {
            schema_version: SCHEMA_VERSION,
            install_id: random_install_id(),
            salt: Salt::random(),
            consent: None,
            last_version: None,
            install_sent_at: None,
            update_sent_at: None,
            health_sent_at: None,
            consent_lost: false,
            remote: None,
            extra: Map::new(),
        }
    }

    /// The install's anonymous fingerprint with the stored salt: lowercase hex SHA-256 of salt
    /// and install id ([`fingerprint::distinct_id`]). Use [`InstallState::identity`] to honour
    /// `TELE_SALT`.
    ///
    /// ```
    /// let state = telemetry_core::__private::internals::state::InstallState::new();
    /// assert_eq!(
    ///     state.distinct_id(),
    ///     telemetry_core::__private::internals::fingerprint::distinct_id(state.salt.as_bytes(), &state.install_id),
    /// );
    /// ```
    pub fn distinct_id(&self) -> String {
        fingerprint::distinct_id(self.salt.as_bytes(), &self.install_id)
    }

    /// The identity events are sent under: the [`effective_salt`] (`TELE_SALT` when given and
    /// not blank, else the stored salt) and this install id.
    ///
    /// ```
    /// let state = telemetry_core::__private::internals::state::InstallState::new();
    /// assert_eq!(state.identity(None).distinct_id(), state.distinct_id());
    /// assert_ne!(state.identity(Some("fleet-salt")).distinct_id(), state.distinct_id());
    /// ```
    pub fn identity(&self, tele_salt: Option<&str>) -> Identity {
        self.identity_for(tele_salt, None)
    }

    /// Like [`identity`](InstallState::identity), with the install id pinned by
    /// `TELEMETRY_INSTALL_ID` when given and not blank: replicas that share both variables
    /// share one fingerprint whatever their state files say.
    ///
    /// ```
    /// use telemetry_core::__private::internals::state::InstallState;
    /// let (a, b) = (InstallState::new(), InstallState::new());
    /// let pinned = |s: &InstallState| s.identity_for(Some("fleet"), Some("web")).distinct_id().to_owned();
    /// assert_eq!(pinned(&a), pinned(&b));
    /// assert_eq!(pinned(&a), telemetry_core::__private::internals::fingerprint::distinct_id(b"fleet", "web"));
    /// ```
    pub fn identity_for(&self, tele_salt: Option<&str>, install_id: Option<&str>) -> Identity {
        let id = match install_id.map(str::trim) {
            Some(id) if !id.is_empty() => id,
            _ => self.install_id.as_str(),
        };
        Identity::new(effective_salt(self, tele_salt), id)
    }

    /// Records a consent decision (and clears [`consent_lost`](InstallState::consent_lost)).
    ///
    /// ```
    /// use telemetry_core::__private::internals::state::{Consent, InstallState};
    /// let mut state = InstallState::new();
    /// state.consent_lost = true;
    /// state.record_consent(Consent::new(true, "admin", chrono::Utc::now()));
    /// assert!(!state.consent_lost && state.consent.unwrap().enabled);
    /// ```
    pub fn record_consent(&mut self, consent: Consent) {
        self.consent = Some(consent);
        self.consent_lost = false;
    }

    /// The consent as the switches see it: a decision, none, or lost with a corrupt file.
    ///
    /// ```
    /// use telemetry_core::__private::internals::state::{InstallState, PersistedConsent};
    /// let mut state = InstallState::new();
    /// assert_eq!(state.persisted_consent(), PersistedConsent::Undecided);
    /// state.consent_lost = true;
    /// assert_eq!(state.persisted_consent(), PersistedConsent::Lost);
    /// ```
    pub fn persisted_consent(&self) -> PersistedConsent {
        match (&self.consent, self.consent_lost) {
            (Some(c), _) => PersistedConsent::Decided(c.enabled),
            (None, true) => PersistedConsent::Lost,
            (None, false) => PersistedConsent::Undecided,
        }
    }

    /// Forgets this install: a new install id and salt, and no record of sent lifecycle pings or
    /// of the last version, so the next start is a new install (`telemetry.install` is sent
    /// again if telemetry is on). The consent decision is kept: forgetting the identity is not
    /// a change of mind about telemetry. Unknown keys are kept too (they are not ours to drop).
    ///
    /// ```
    /// let mut state = telemetry_core::__private::internals::state::InstallState::new();
    /// state.last_version = Some("1.0.0".into());
    /// let before = state.distinct_id();
    /// state.forget();
    /// assert_ne!(state.distinct_id(), before);
    /// assert!(state.last_version.is_none() && state.install_sent_at.is_none());
    /// ```
    pub fn forget(&mut self) {
        self.install_id = random_install_id();
        self.salt = Salt::random();
        self.last_version = None;
        self.install_sent_at = None;
        self.update_sent_at = None;
        self.health_sent_at = None;
    }

    /// Fills what a readable file may lack. Returns whether anything changed.
    pub(super) fn normalize(&mut self) -> bool {
        let mut changed = false;
        if self.install_id.trim().is_empty() {
            self.install_id = random_install_id();
            changed = true;
        }
        if self.schema_version < SCHEMA_VERSION {
            self.schema_version = SCHEMA_VERSION;
            changed = true;
        }
        changed
    }
}

impl fmt::Debug for InstallState {
    /// Never prints the install id or the salt: the install id with the stored salt is the
    /// identity itself, so only the first 8 characters of its fingerprint are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = self.distinct_id();
        f.debug_struct("InstallState")
            .field("schema_version", &self.schema_version)
            .field(
                "install_id",
                &format_args!("<redacted, fingerprint {}..>", &fingerprint[..8]),
            )
            .field("salt", &self.salt)
            .field("consent", &self.consent)
            .field("last_version", &self.last_version)
            .field("install_sent_at", &self.install_sent_at)
            .field("update_sent_at", &self.update_sent_at)
            .field("health_sent_at", &self.health_sent_at)
            .field("consent_lost", &self.consent_lost)
            .field("remote", &self.remote)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The remote kill switch's last decision, as persisted: which flag, what it said, when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The flag key the decision is for (a decision for another key is not used).
    pub flag: String,
    /// Whether the flag left telemetry on.
    pub enabled: bool,
    /// Events the flag's payload dropped.
    #[serde(default)]
    pub drop: Vec<String>,
    /// When the flags service gave this answer.
    #[serde(with = "rfc3339")]
    pub decided_at: DateTime<Utc>,
}

fn lenient_remote<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Box<RemoteRecord>>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}

/// The persisted consent as the on/off decision reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistedConsent {
    /// An opt-in (`true`) or opt-out (`false`) was recorded.
    Decided(bool),
    /// Nobody decided yet.
    Undecided,
    /// A corrupt state file lost the decision: off until one is recorded again.
    Lost,
}

/// The salt to hash with: the bytes of `tele_salt` (the `TELE_SALT` variable, trimmed) when it is
/// given and not blank, else the stored per-install salt.
///
/// ```
/// use telemetry_core::__private::internals::state::{InstallState, effective_salt};
///
/// let state = InstallState::new();
/// assert_eq!(effective_salt(&state, Some(" fleet ")), b"fleet");
/// assert_eq!(effective_salt(&state, Some("  ")), state.salt.as_bytes());
/// assert_eq!(effective_salt(&state, None), state.salt.as_bytes());
/// ```
pub fn effective_salt(state: &InstallState, tele_salt: Option<&str>) -> Vec<u8> {
    match tele_salt.map(str::trim) {
        Some(salt) if !salt.is_empty() => salt.as_bytes().to_vec(),
        _ => state.salt.as_bytes().to_vec(),
    }
}

/// Where the install state lives: `state_dir_var` (the value of `TELEMETRY_STATE_DIR`) when set
/// and not blank; else the platform's data directory for `app_name` (from the `directories`
/// crate, e.g. `~/.local/share/<app>` on Linux); else `.telemetry` in the current directory.
///
/// Pure over its inputs, so it can be tested without touching the environment; pass
/// `std::env::var_os(STATE_DIR_ENV).as_deref()` in real use (or call
/// [`StateStore::open_for_app`](super::StateStore::open_for_app)).
pub fn default_state_dir(app_name: &str, state_dir_var: Option<&OsStr>) -> PathBuf {
    if let Some(dir) = state_dir_var.filter(|v| !v.to_string_lossy().trim().is_empty()) {
        return PathBuf::from(dir);
    }
    let app = match app_name.trim() {
        "" => "telemetry",
        name => name,
    };
    if let Some(dirs) = directories::ProjectDirs::from("", "", app) {
        return dirs.data_dir().to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(".telemetry"),
        Err(_) => PathBuf::from(".telemetry"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_remote_record_reads_from_its_json() {
        let record: RemoteRecord = serde_json::from_str(
            r#"{"flag": "kill", "enabled": true, "drop": ["a.b"], "decided_at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!((record.flag.as_str(), record.enabled), ("kill", true));
        assert_eq!(record.drop, ["a.b"]);
    }

    #[test]
    fn the_state_dir_variable_wins_unless_blank() {
        use std::ffi::OsStr;
        assert_eq!(
            default_state_dir("myapp", Some(OsStr::new("/srv/state"))),
            Path::new("/srv/state")
        );
        let dir = default_state_dir("myapp", Some(OsStr::new(" ")));
        assert!(dir.to_string_lossy().contains("myapp") || dir.ends_with(".telemetry"));
    }

    #[test]
    fn effective_salt_prefers_a_non_blank_tele_salt() {
        let state = InstallState::new();
        assert_eq!(effective_salt(&state, Some("abc")), b"abc");
        assert_eq!(effective_salt(&state, Some("\tabc\n")), b"abc");
        assert_eq!(effective_salt(&state, Some("")), state.salt.as_bytes());
        assert_eq!(effective_salt(&state, Some(" \n")), state.salt.as_bytes());
        assert_eq!(effective_salt(&state, None), state.salt.as_bytes());
        assert_ne!(
            state.identity(Some("abc")).distinct_id(),
            state.identity(None).distinct_id()
        );
    }

    #[test]
    fn default_dir_precedence() {
        assert_eq!(
            default_state_dir("app", Some(OsStr::new("/x/y"))),
            Path::new("/x/y")
        );
        let platform = default_state_dir("Some App", None);
        assert_eq!(
            default_state_dir("Some App", Some(OsStr::new(""))),
            platform
        );
        assert_eq!(
            default_state_dir("Some App", Some(OsStr::new("  "))),
            platform
        );
        if let Some(dirs) = directories::ProjectDirs::from("", "", "Some App") {
            assert_eq!(platform, dirs.data_dir());
        } else {
            assert!(platform.ends_with(".telemetry"));
        }
        // A blank app name still gives a usable directory of its own.
        assert_ne!(default_state_dir(" ", None), PathBuf::new());
    }
}
