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
//! ([`fingerprint::distinct_id`](crate::fingerprint::distinct_id)) is sent. On Unix the file is created with mode `0600`.
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
//! use telemetry_core::__private::internals::state::{Consent, StateStore};
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

mod file;
mod install;
mod lock;
mod salt;
mod store;
mod time;

use std::time::Duration;

pub(crate) use file::private_file_options;
#[cfg(feature = "posthog")]
pub use install::RemoteRecord;
pub use install::{Consent, InstallState, PersistedConsent, default_state_dir, effective_salt};
pub use salt::Salt;
pub use store::StateStore;

/// The schema version this crate writes. A file with a higher version is read (unknown keys are
/// kept) and its version is never lowered.
pub const SCHEMA_VERSION: u32 = 1;

/// The state file's name inside the state directory.
pub const STATE_FILE_NAME: &str = "install.json";

/// The environment variable naming the state directory.
pub const STATE_DIR_ENV: &str = "TELEMETRY_STATE_DIR";

pub(crate) const LOCK_FILE_NAME: &str = "install.json.lock";
pub(crate) const LOCK_TIMEOUT: Duration = Duration::from_millis(1500);
