//! The install state: a small JSON file that gives an installation its anonymous identity and
//! remembers the operator's consent and which lifecycle pings were sent.
//!
//! # The file
//!
//! `<state dir>/install.json`, for example:
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "install_id": "0b6e3f1c-9a43-4c5e-8d2f-3f4b1f0d7a21",
//!   "salt": "<64 hex characters: 32 random bytes>",
//!   "consent": { "enabled": true, "decided_at": "2026-05-01T10:00:00Z", "source": "setup" },
//!   "last_version": "1.4.0",
//!   "install_sent_at": "2026-05-01T10:00:01.250Z",
//!   "update_sent_at": null,
//!   "health_sent_at": "2026-05-02T10:00:00Z"
//! }
//! ```
//!
//! The salt and the install id never leave the process: only their SHA-256
//! ([`fingerprint::distinct_id`]) is sent. On Unix the file is created with mode `0600`.
//!
//! # Guarantees
//!
//! - [`StateStore::open`] never fails and never panics. A corrupt file is moved aside
//!   (`install.json.corrupt-<timestamp>`) and replaced; a directory that cannot be written
//!   degrades to in-memory state ([`StateStore::is_persistent`] is then `false`). Either case
//!   emits one warning.
//! - Every write is atomic: a temporary file in the same directory, fsynced, then renamed over
//!   `install.json`. A reader sees the old file or the new one, never a mix.
//! - [`StateStore::update`] takes a cross-process lock (`install.json.lock`), re-reads the file,
//!   applies the caller's change and writes: it merges with what is on disk, so concurrent
//!   writers (threads or processes) never drop each other's changes, and keys this version does
//!   not know (from a newer writer) are kept.
//! - Waiting for the lock is bounded (about 1.5 s); past that the write goes ahead unlocked, with
//!   one warning, rather than blocking the application.
//!
//! ```
//! use telemetry_core::state::{Consent, StateStore};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = StateStore::open(dir.path());
//! assert!(store.is_persistent());
//! store.update(|s| s.consent = Some(Consent::new(true, "setup", chrono::Utc::now())));
//!
//! // A restart sees the same identity and the decision.
//! let again = StateStore::open(dir.path());
//! assert_eq!(again.state().install_id, store.state().install_id);
//! assert_eq!(again.state().consent.map(|c| c.enabled), Some(true));
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::fingerprint::{self, Identity};
use crate::warn::warn;

/// The schema version this crate writes. A file with a higher version is read (unknown keys are
/// kept) and its version is never lowered.
pub const SCHEMA_VERSION: u32 = 1;

/// The state file's name inside the state directory.
pub const STATE_FILE_NAME: &str = "install.json";

/// The environment variable naming the state directory.
pub const STATE_DIR_ENV: &str = "TELEMETRY_STATE_DIR";

const LOCK_FILE_NAME: &str = "install.json.lock";
const LOCK_TIMEOUT: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------------------------------------
// Salt

/// The per-install secret that fingerprints and [`Hashed`](crate::Hashed) values are salted with.
///
/// 32 random bytes, stored hex-encoded. Never sent, never logged: its `Debug` output is redacted.
///
/// ```
/// use telemetry_core::state::Salt;
///
/// let salt = Salt::random();
/// assert_eq!(salt.as_bytes().len(), Salt::LEN);
/// assert_ne!(salt, Salt::random());
/// assert_eq!(format!("{salt:?}"), "Salt(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(Vec<u8>);

impl Salt {
    /// Length in bytes of a generated salt.
    pub const LEN: usize = 32;

    /// A new random salt from the operating system's random source.
    ///
    /// ```
    /// assert_eq!(telemetry_core::state::Salt::random().as_bytes().len(), 32);
    /// ```
    pub fn random() -> Salt {
        Salt(random_bytes::<{ Salt::LEN }>().to_vec())
    }

    /// A salt with the given bytes (for tests, or migrating a salt from elsewhere).
    ///
    /// ```
    /// let salt = telemetry_core::state::Salt::from_bytes(vec![7; 32]);
    /// assert_eq!(salt.as_bytes(), &[7; 32]);
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Salt {
        Salt(bytes.into())
    }

    /// The raw salt bytes.
    ///
    /// ```
    /// let salt = telemetry_core::state::Salt::from_bytes(*b"abc");
    /// assert_eq!(salt.as_bytes(), b"abc");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(<redacted>)")
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&fingerprint::to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Salt, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The error never quotes the value: it is (meant to be) a secret.
        from_hex(&text)
            .filter(|bytes| !bytes.is_empty())
            .map(Salt)
            .ok_or_else(|| D::Error::custom("`salt` must be a non-empty hex string"))
    }
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.trim().as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// Random bytes from the OS. If the OS source fails (it practically never does), a hash of
/// time, process id and a counter is used instead, with a warning: never a panic.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        static WARNED: AtomicBool = AtomicBool::new(false);
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        if !WARNED.swap(true, Ordering::Relaxed) {
            warn(
                "the operating system's random source failed; using a weaker fallback for the install id and salt",
            );
        }
        let seed = format!(
            "{:?}|{}|{}|{:?}",
            std::time::SystemTime::now(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::thread::current().id(),
        );
        let mut filled = 0;
        let mut round = 0u32;
        while filled < N {
            let block = sha2_block(seed.as_bytes(), round);
            let take = (N - filled).min(block.len());
            buf[filled..filled + take].copy_from_slice(&block[..take]);
            filled += take;
            round += 1;
        }
    }
    buf
}

fn sha2_block(seed: &[u8], round: u32) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(round.to_le_bytes());
    hasher.update(seed);
    hasher.finalize().into()
}

fn random_install_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes::<16>())
        .into_uuid()
        .to_string()
}

// ---------------------------------------------------------------------------------------------
// The state

/// An operator's telemetry decision, as persisted (for example from a setup page or an admin
/// toggle).
///
/// ```
/// use telemetry_core::state::Consent;
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
    /// let c = telemetry_core::state::Consent::new(false, "api", chrono::Utc::now());
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
/// use telemetry_core::state::InstallState;
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstallState {
    /// The schema version of the file ([`SCHEMA_VERSION`] or higher).
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
    /// use telemetry_core::state::InstallState;
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
            extra: Map::new(),
        }
    }

    /// The install's anonymous fingerprint with the stored salt: lowercase hex SHA-256 of salt
    /// and install id ([`fingerprint::distinct_id`]). Use [`InstallState::identity`] to honour
    /// `TELE_SALT`.
    ///
    /// ```
    /// let state = telemetry_core::state::InstallState::new();
    /// assert_eq!(
    ///     state.distinct_id(),
    ///     telemetry_core::fingerprint::distinct_id(state.salt.as_bytes(), &state.install_id),
    /// );
    /// ```
    pub fn distinct_id(&self) -> String {
        fingerprint::distinct_id(self.salt.as_bytes(), &self.install_id)
    }

    /// The identity events are sent under: the [`effective_salt`] (`TELE_SALT` when given and
    /// not blank, else the stored salt) and this install id.
    ///
    /// ```
    /// let state = telemetry_core::state::InstallState::new();
    /// assert_eq!(state.identity(None).distinct_id(), state.distinct_id());
    /// assert_ne!(state.identity(Some("fleet-salt")).distinct_id(), state.distinct_id());
    /// ```
    pub fn identity(&self, tele_salt: Option<&str>) -> Identity {
        Identity::new(effective_salt(self, tele_salt), &self.install_id)
    }

    /// Forgets this install: a new install id and salt, and no record of sent lifecycle pings or
    /// of the last version, so the next start is a new install (`telemetry.install` is sent
    /// again if telemetry is on). The consent decision is kept: forgetting the identity is not
    /// a change of mind about telemetry. Unknown keys are kept too (they are not ours to drop).
    ///
    /// ```
    /// let mut state = telemetry_core::state::InstallState::new();
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
    fn normalize(&mut self) -> bool {
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

/// The salt to hash with: the bytes of `tele_salt` (the `TELE_SALT` variable, trimmed) when it is
/// given and not blank, else the stored per-install salt.
///
/// ```
/// use telemetry_core::state::{InstallState, effective_salt};
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
/// [`StateStore::open_for_app`]).
///
/// ```
/// use std::ffi::OsStr;
/// use std::path::Path;
/// use telemetry_core::state::default_state_dir;
///
/// assert_eq!(default_state_dir("myapp", Some(OsStr::new("/srv/state"))), Path::new("/srv/state"));
/// // Blank counts as unset.
/// let dir = default_state_dir("myapp", Some(OsStr::new(" ")));
/// assert!(dir.to_string_lossy().contains("myapp") || dir.ends_with(".telemetry"));
/// ```
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

// ---------------------------------------------------------------------------------------------
// The store

/// The install state on disk (or in memory when the disk cannot be used), shared by every
/// thread of the process and safe against other processes using the same directory.
///
/// ```
/// use telemetry_core::state::StateStore;
///
/// let dir = tempfile::tempdir().unwrap();
/// let store = StateStore::open(dir.path());
/// assert_eq!(store.path(), dir.path().join("install.json"));
///
/// let id = store.state().distinct_id();
/// let version = store.update(|s| {
///     s.last_version = Some("2.0.0".into());
///     s.last_version.clone()
/// });
/// assert_eq!(version.as_deref(), Some("2.0.0"));
/// assert_eq!(StateStore::open(dir.path()).state().distinct_id(), id);
/// ```
#[derive(Debug)]
pub struct StateStore {
    dir: PathBuf,
    path: PathBuf,
    /// Decided at open: whether updates go to the file at all.
    backed_by_file: bool,
    /// Whether the last write succeeded.
    last_write_ok: AtomicBool,
    warned_lock: AtomicBool,
    /// A lock wait this store gave up on is still pending.
    abandoned_wait: Arc<AtomicBool>,
    state: Mutex<InstallState>,
}

impl StateStore {
    /// Opens (or creates) the install state in `dir`. Never fails, never panics, and waits for
    /// another process's lock at most about 1.5 s.
    ///
    /// - No file: a fresh state is created and written.
    /// - A corrupt file: moved aside to `install.json.corrupt-<timestamp>`, replaced by a fresh
    ///   state, one warning.
    /// - A directory that cannot be created or written: the state (read from the file if it is
    ///   readable, else fresh) is kept in memory only, one warning, and
    ///   [`is_persistent`](StateStore::is_persistent) is `false`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("install.json"), "{ not json").unwrap();
    /// let store = telemetry_core::state::StateStore::open(dir.path()); // warns once
    /// assert!(store.is_persistent());
    /// assert_eq!(store.state().salt.as_bytes().len(), 32);
    /// ```
    pub fn open(dir: impl Into<PathBuf>) -> StateStore {
        let dir = dir.into();
        let path = dir.join(STATE_FILE_NAME);
        let loaded = load(&dir, &path);
        if !loaded.problems.is_empty() {
            warn(&format!(
                "telemetry install state: {}",
                loaded.problems.join("; ")
            ));
        }
        StateStore {
            dir,
            path,
            backed_by_file: loaded.backed_by_file,
            last_write_ok: AtomicBool::new(loaded.backed_by_file),
            // Already reported in the warning above.
            warned_lock: AtomicBool::new(loaded.no_lock_file),
            abandoned_wait: loaded.abandoned_wait,
            state: Mutex::new(loaded.state),
        }
    }

    /// Opens the state in [`default_state_dir`] for `app_name`, honouring `TELEMETRY_STATE_DIR`.
    ///
    /// ```no_run
    /// let store = telemetry_core::state::StateStore::open_for_app("timetracker");
    /// println!("install state: {}", store.path().display());
    /// ```
    pub fn open_for_app(app_name: &str) -> StateStore {
        let var = std::env::var_os(STATE_DIR_ENV);
        StateStore::open(default_state_dir(app_name, var.as_deref()))
    }

    /// The state file's path (`<dir>/install.json`), also when the state is in memory only.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = telemetry_core::state::StateStore::open(dir.path());
    /// assert!(store.path().ends_with("install.json"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether changes are being saved: `false` when the directory could not be used at open,
    /// or the last write failed (a later successful write makes it `true` again).
    ///
    /// ```
    /// let file = tempfile::NamedTempFile::new().unwrap();
    /// // A directory under a regular file can never be created.
    /// let store = telemetry_core::state::StateStore::open(file.path().join("sub"));
    /// assert!(!store.is_persistent());
    /// ```
    pub fn is_persistent(&self) -> bool {
        self.backed_by_file && self.last_write_ok.load(Ordering::Relaxed)
    }

    /// A copy of the current state, as of this process's last read or write. Cheap: no I/O.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = telemetry_core::state::StateStore::open(dir.path());
    /// assert_eq!(store.state().schema_version, 1);
    /// ```
    pub fn state(&self) -> InstallState {
        self.lock_cache().clone()
    }

    /// Re-reads the file (for changes made by another process, such as a consent decision)
    /// and returns the result. If the file is missing, unreadable or corrupt, the last known
    /// state is returned and nothing is written.
    ///
    /// ```
    /// use telemetry_core::state::StateStore;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let (a, b) = (StateStore::open(dir.path()), StateStore::open(dir.path()));
    /// a.update(|s| s.last_version = Some("3.0.0".into()));
    /// assert_eq!(b.reload().last_version.as_deref(), Some("3.0.0"));
    /// ```
    pub fn reload(&self) -> InstallState {
        let mut cached = self.lock_cache();
        if self.backed_by_file
            && let Read::Found(state, _) = read_state(&self.path)
        {
            *cached = state;
        }
        cached.clone()
    }

    /// Changes the state: under the cross-process lock, re-reads the file, applies `change`,
    /// and writes the result atomically; returns what `change` returned.
    ///
    /// `change` sees what is on disk now (not a stale copy), so it only changes what it means
    /// to change: another process's keys survive. Never fails: if the lock cannot be had within
    /// about 1.5 s the write goes ahead unlocked (one warning per store); if the write fails the
    /// change is kept in memory (one warning, and [`is_persistent`](StateStore::is_persistent)
    /// turns `false`).
    ///
    /// ```
    /// use telemetry_core::state::{Consent, StateStore};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = StateStore::open(dir.path());
    /// store.update(|s| s.consent = Some(Consent::new(true, "admin", chrono::Utc::now())));
    /// assert_eq!(store.state().consent.unwrap().source, "admin");
    /// ```
    pub fn update<R>(&self, change: impl FnOnce(&mut InstallState) -> R) -> R {
        let mut cached = self.lock_cache();
        if !self.backed_by_file {
            return change(&mut cached);
        }
        let _guard = match lock_dir(&self.dir, &self.abandoned_wait) {
            Ok(guard) => Some(guard),
            Err(reason) => {
                if !self.warned_lock.swap(true, Ordering::Relaxed) {
                    warn(&format!(
                        "telemetry install state: could not lock {} ({reason}); writing without the lock",
                        self.dir.join(LOCK_FILE_NAME).display()
                    ));
                }
                None
            }
        };
        let mut state = match read_state(&self.path) {
            Read::Found(state, _) => state,
            // Deleted or unreadable meanwhile: keep this process's identity.
            Read::Missing | Read::Failed(_) => cached.clone(),
            Read::Corrupt(reason) => {
                let moved = move_aside(&self.path);
                warn(&format!(
                    "telemetry install state: {}",
                    corrupt_message(&self.path, &reason, &moved)
                ));
                cached.clone()
            }
        };
        let result = change(&mut state);
        match write_atomic(&self.path, &state) {
            Ok(()) => self.last_write_ok.store(true, Ordering::Relaxed),
            Err(e) => {
                if self.last_write_ok.swap(false, Ordering::Relaxed) {
                    warn(&format!(
                        "telemetry install state: could not save {} ({e}); keeping changes in memory",
                        self.path.display()
                    ));
                }
            }
        }
        *cached = state;
        result
    }

    /// [`InstallState::forget`] on the stored state: rotates install id and salt, clears the
    /// lifecycle record and the last version, keeps consent. Returns the new state.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = telemetry_core::state::StateStore::open(dir.path());
    /// let before = store.state();
    /// let after = store.forget();
    /// assert_ne!(after.install_id, before.install_id);
    /// assert_ne!(after.salt, before.salt);
    /// ```
    pub fn forget(&self) -> InstallState {
        self.update(|state| {
            state.forget();
            state.clone()
        })
    }

    fn lock_cache(&self) -> MutexGuard<'_, InstallState> {
        // A panic in a caller's closure must not make the state unusable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What [`StateStore::open`] found.
struct Loaded {
    state: InstallState,
    /// Whether updates go to the file.
    backed_by_file: bool,
    /// The lock file could not be created (reported in `problems` already).
    no_lock_file: bool,
    /// Set while a lock wait given up on at open is still pending.
    abandoned_wait: Arc<AtomicBool>,
    /// What to report, in one warning.
    problems: Vec<String>,
}

impl Loaded {
    fn in_memory(state: InstallState, problems: Vec<String>) -> Loaded {
        Loaded {
            state,
            backed_by_file: false,
            no_lock_file: false,
            abandoned_wait: Arc::default(),
            problems,
        }
    }
}

fn load(dir: &Path, path: &Path) -> Loaded {
    let mut problems = Vec::new();
    if let Err(e) = fs::create_dir_all(dir) {
        problems.push(format!(
            "cannot create {} ({e}); {MEMORY_ONLY}",
            dir.display()
        ));
        return Loaded::in_memory(InstallState::new(), problems);
    }
    let mut no_lock_file = false;
    let abandoned_wait = Arc::default();
    let _guard = match lock_dir(dir, &abandoned_wait) {
        Ok(guard) => Some(guard),
        Err(reason) => {
            no_lock_file = reason.starts_with(CANNOT_OPEN_LOCK);
            if !no_lock_file {
                problems.push(format!("{reason}; went ahead without the lock"));
            }
            None
        }
    };
    let (state, needs_write) = match read_state(path) {
        Read::Found(state, needs_write) => (state, needs_write),
        Read::Missing => (InstallState::new(), true),
        Read::Corrupt(reason) => {
            let moved = move_aside(path);
            let corrupt = corrupt_message(path, &reason, &moved);
            if moved.is_err() {
                // The directory is not writable: keep the bad file, run on a fresh state.
                problems.push(format!("{corrupt}; {MEMORY_ONLY}"));
                return Loaded::in_memory(InstallState::new(), problems);
            }
            problems.push(corrupt);
            (InstallState::new(), true)
        }
        Read::Failed(e) => {
            problems.push(format!(
                "cannot read {} ({e}); {MEMORY_ONLY}",
                path.display()
            ));
            return Loaded::in_memory(InstallState::new(), problems);
        }
    };
    let writable = if needs_write {
        write_atomic(path, &state)
    } else {
        // Nothing to write: find out whether later updates will be able to (a read-only mount
        // with a pre-seeded state is readable, yet nothing can be saved there).
        probe_writable(dir)
    };
    if let Err(e) = writable {
        problems.push(format!(
            "cannot write to {} ({e}); {MEMORY_ONLY}",
            dir.display()
        ));
        return Loaded::in_memory(state, problems);
    }
    if no_lock_file {
        problems.push(format!(
            "could not create {}; updates are written without the cross-process lock",
            dir.join(LOCK_FILE_NAME).display()
        ));
    }
    Loaded {
        state,
        backed_by_file: true,
        no_lock_file,
        abandoned_wait,
        problems,
    }
}

const MEMORY_ONLY: &str = "keeping the install state in memory only: changes (consent, lifecycle \
                           pings) are not saved, and a state that was never saved is new at \
                           every start";
const CANNOT_OPEN_LOCK: &str = "cannot open the lock file";

fn corrupt_message(path: &Path, reason: &str, moved: &io::Result<PathBuf>) -> String {
    match moved {
        Ok(aside) => format!(
            "{} was corrupt ({reason}); moved it to {} and started a new install state",
            path.display(),
            aside.display()
        ),
        Err(e) => format!(
            "{} was corrupt ({reason}) and could not be moved aside ({e})",
            path.display()
        ),
    }
}

enum Read {
    /// The state, and whether it should be written back (something was filled in).
    Found(InstallState, bool),
    Missing,
    Corrupt(String),
    Failed(io::Error),
}

fn read_state(path: &Path) -> Read {
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

fn parse_state(bytes: &[u8]) -> Result<(InstallState, bool), String> {
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

fn move_aside(path: &Path) -> io::Result<PathBuf> {
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
fn write_atomic(path: &Path, state: &InstallState) -> io::Result<()> {
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

fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
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

fn probe_writable(dir: &Path) -> io::Result<()> {
    let (tmp_path, file) = create_temp(dir)?;
    drop(file);
    fs::remove_file(tmp_path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Makes the rename itself durable; not all file systems support it, so errors are ignored.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

// ---------------------------------------------------------------------------------------------
// The cross-process lock

/// Holds the exclusive lock on `install.json.lock` until dropped.
struct DirLock(File);

impl Drop for DirLock {
    #[allow(
        clippy::incompatible_msrv,
        reason = "File::unlock is stable since 1.89; the workspace MSRV (1.88) has to follow"
    )]
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first is just explicit.
        let _ = self.0.unlock();
    }
}

/// Takes the exclusive lock on the directory's lock file, waiting at most [`LOCK_TIMEOUT`].
///
/// Uncontended, this is one `try_lock`. Contended, a helper thread waits in a blocking `lock`,
/// which the kernel wakes as soon as the holder releases; polling `try_lock` instead can starve
/// behind a process that releases and re-takes the lock back to back. If the wait times out,
/// the helper thread is abandoned: it releases the lock as soon as it gets it, and while it is
/// still waiting (`abandoned` is set) later calls do not wait again but fail at once, so a
/// stuck lock holder costs one wait, not one per update.
#[allow(
    clippy::incompatible_msrv,
    reason = "File::lock/try_lock are stable since 1.89; the workspace MSRV (1.88) has to follow"
)]
fn lock_dir(dir: &Path, abandoned: &Arc<AtomicBool>) -> Result<DirLock, String> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE_NAME))
        .map_err(|e| format!("{CANNOT_OPEN_LOCK}: {e}"))?;
    match file.try_lock() {
        Ok(()) => return Ok(DirLock(file)),
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => return Err(format!("cannot lock: {e}")),
    }
    if abandoned.load(Ordering::SeqCst) {
        return Err("an earlier wait for the lock has not ended yet".to_owned());
    }
    let (tx, rx) = mpsc::channel();
    // Set (under this mutex) when the caller stops waiting; read (under it) by the helper
    // before it hands the lock over, so the lock is either received or released, never lost.
    let gave_up = Arc::new(Mutex::new(false));
    let spawned = {
        let gave_up = Arc::clone(&gave_up);
        let abandoned = Arc::clone(abandoned);
        std::thread::Builder::new()
            .name("telemetry-state-lock".to_owned())
            .spawn(move || {
                let locked = file.lock().map(|()| DirLock(file));
                let gave_up = gave_up.lock().unwrap_or_else(|e| e.into_inner());
                if *gave_up {
                    drop(locked); // releases the lock
                    abandoned.store(false, Ordering::SeqCst);
                } else {
                    let _ = tx.send(locked);
                }
            })
    };
    if let Err(e) = spawned {
        return Err(format!("cannot wait for the lock: {e}"));
    }
    let received = match rx.recv_timeout(LOCK_TIMEOUT) {
        Ok(received) => received,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            return Err("the lock waiter ended unexpectedly".to_owned());
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            let mut gave_up = gave_up.lock().unwrap_or_else(|e| e.into_inner());
            match rx.try_recv() {
                // Handed over just in time.
                Ok(received) => received,
                Err(_) => {
                    *gave_up = true;
                    abandoned.store(true, Ordering::SeqCst);
                    return Err(format!(
                        "another process held the lock for more than {} ms",
                        LOCK_TIMEOUT.as_millis()
                    ));
                }
            }
        }
    };
    received.map_err(|e| format!("cannot lock: {e}"))
}

// ---------------------------------------------------------------------------------------------
// RFC 3339 timestamps

mod rfc3339 {
    use super::*;

    /// Lossless (as many fractional digits as needed), so a state read back equals the state
    /// written.
    pub(super) fn format(t: &DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    pub(super) fn parse<E: serde::de::Error>(text: &str) -> Result<DateTime<Utc>, E> {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| E::custom(format!("invalid RFC 3339 timestamp {text:?}: {e}")))
    }

    pub(super) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        parse(&String::deserialize(d)?)
    }
}

mod rfc3339_opt {
    use super::*;

    pub(super) fn serialize<S: Serializer>(
        t: &Option<DateTime<Utc>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339::format(t)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| rfc3339::parse(&text))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let salt = Salt::random();
        let hex = fingerprint::to_hex(salt.as_bytes());
        assert_eq!(hex.len(), 64);
        assert_eq!(from_hex(&hex).unwrap(), salt.as_bytes());
        assert_eq!(from_hex("ABcd").unwrap(), vec![0xab, 0xcd]);
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
    }

    #[test]
    fn install_id_is_a_random_uuid() {
        let id = uuid::Uuid::parse_str(&random_install_id()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_ne!(random_install_id(), random_install_id());
    }

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

    #[test]
    fn debug_redacts_the_salt() {
        let state = InstallState::new();
        let hex = fingerprint::to_hex(state.salt.as_bytes());
        let debug = format!("{state:?}");
        assert!(!debug.contains(&hex));
        assert!(debug.contains("<redacted>"));
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
