//! What an admin page shows about telemetry: [`Status`].

use std::path::PathBuf;

use chrono::Utc;

use super::Telemetry;
use crate::config::Reason;
use crate::pipeline::{self, Stats};
#[cfg(feature = "posthog")]
use crate::remote::RemoteStatus;

/// Where the install's identity (its fingerprint) comes from.
///
/// ```
/// use telemetry_core::{EnvConfig, IdentitySource, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder().state_dir(dir.path()).env(EnvConfig::default()).install();
/// assert_eq!(telemetry.status().identity_source, IdentitySource::Persisted);
/// # telemetry.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// The install state file (keep its directory on a volume so restarts are one install).
    Persisted,
    /// `TELEMETRY_INSTALL_ID` (with `TELE_SALT`): every process sharing both variables is one
    /// install, whatever its state file.
    PinnedByEnv,
    /// In memory only: the state directory cannot be written, so every start is a new install.
    InMemory,
}

/// What an admin page shows about telemetry. Never contains the salt, the install id or the
/// API key.
///
/// ```
/// use telemetry_core::{EnvConfig, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder()
///     .app("doc-app", "1.0.0")
///     .state_dir(dir.path())
///     .env(EnvConfig::default())
///     .install();
/// let status = telemetry.status();
/// assert!(!status.enabled);
/// assert_eq!(status.reason, "off by default: nobody opted in");
/// assert_eq!(status.fingerprint_short.len(), 12);
/// assert!(!status.posthog_configured);
/// println!("{}", serde_json::to_string_pretty(&status).unwrap()); // for an admin page
/// # telemetry.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Status {
    /// The application name.
    pub app_name: String,
    /// The version sent as `app_version` (`"invalid"` when it was not a plain version).
    pub app_version: String,
    /// Whether events are captured and sent: local consent has telemetry on and the remote
    /// flag (if any) has not switched it off.
    pub enabled: bool,
    /// Why, in words.
    pub reason: String,
    /// Why, as data.
    pub reason_code: Reason,
    /// The first 12 characters of the install fingerprint.
    pub fingerprint_short: String,
    /// Where the identity comes from.
    pub identity_source: IdentitySource,
    /// [`identity_source`](Status::identity_source) in words, with what it means for
    /// containers and replicas.
    pub identity_note: String,
    /// `TELE_SALT` pins the salt: hashed values (`Hashed` properties, per-user `distinct_id`)
    /// hash the same before and after [`Telemetry::forget`], so they stay linkable.
    pub salt_pinned: bool,
    /// Why [`salt_pinned`](Status::salt_pinned) matters, when it is set.
    pub salt_pinned_note: Option<String>,
    /// Whether this handle drives the process's pipeline (false once a later `install()`
    /// took it over, or after shutdown).
    pub pipeline_owner: bool,
    /// Whether a PostHog key is configured.
    pub posthog_configured: bool,
    /// The PostHog host, when configured.
    pub posthog_host: Option<String>,
    /// The sink in use: `posthog`, `jsonl`, `stderr`, or a custom sink's kind.
    pub sink: String,
    /// The sink's destination (host or file), if any.
    pub sink_target: Option<String>,
    /// The install state file.
    pub state_file: Option<PathBuf>,
    /// Whether the install state is saved to disk (false: in memory only).
    pub state_persistent: bool,
    /// When `telemetry.install` was last sent (RFC 3339).
    pub last_install: Option<String>,
    /// When `telemetry.update` was last sent (RFC 3339).
    pub last_update: Option<String>,
    /// When `telemetry.health` was last sent (RFC 3339).
    pub last_health: Option<String>,
    /// Pipeline counters (including the outage spool's: `spooled`, `recovered`,
    /// `spool_expired`, `spool_overflowed`, `spool_rejected`).
    pub counters: Stats,
    /// The outage spool file, when events go to PostHog and the install state is on disk.
    pub spool_file: Option<PathBuf>,
    /// Events waiting in the outage spool now (from this run or an earlier one).
    pub spool_pending: u64,
    /// The remote kill switch (`TELEMETRY_REMOTE_FLAG`), when a flag is configured and events
    /// go to PostHog: its key, last decision, when it was evaluated, the events it drops.
    #[cfg(feature = "posthog")]
    pub remote: Option<RemoteStatus>,
}

impl Telemetry {
    /// Status for an admin page.
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Telemetry};
    /// let dir = tempfile::tempdir().unwrap();
    /// let telemetry = Telemetry::builder().state_dir(dir.path()).env(EnvConfig::default()).install();
    /// assert_eq!(telemetry.status().state_file.unwrap().parent(), Some(dir.path()));
    /// # telemetry.shutdown();
    /// ```
    pub fn status(&self) -> Status {
        let inner = &self.inner;
        let ((enabled, reason), shut_down) = {
            let machine = inner.lock_machine();
            (machine.decision.clone(), machine.shut_down)
        };
        #[cfg(feature = "posthog")]
        let remote = inner.remote.as_ref().map(|r| r.status());
        #[cfg(feature = "posthog")]
        let (enabled, reason) = match remote.as_ref().filter(|r| enabled && r.disabled) {
            Some(remote) => (false, Reason::Remote(remote.flag.clone())),
            None => (enabled, reason),
        };
        let fingerprint = inner
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .distinct_id()
            .to_owned();
        let state = inner.store.state();
        let rfc3339 = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        let (identity_source, identity_note) = identity_source(
            inner.env.install_id.is_some(),
            inner.env.tele_salt.is_some(),
            inner.store.is_persistent(),
        );
        let salt_pinned = inner.env.tele_salt.is_some();
        let posthog_host = inner.plan.posthog_host().map(str::to_owned);
        Status {
            app_name: inner.app_name.clone(),
            app_version: inner.app_version.clone(),
            enabled,
            reason: reason.to_string(),
            reason_code: reason,
            fingerprint_short: fingerprint[..12].to_owned(),
            identity_source,
            identity_note: identity_note.to_owned(),
            salt_pinned,
            salt_pinned_note: salt_pinned.then(|| {
                "TELE_SALT pins the salt: forget() gives a new install id, but hashed values \
                 (Hashed properties, per-user distinct_id) hash the same as before and stay \
                 linkable; unset TELE_SALT (or change it) to make them unlinkable"
                    .to_owned()
            }),
            pipeline_owner: !shut_down && super::lock_pipeline().owner == inner.generation,
            posthog_configured: posthog_host.is_some(),
            posthog_host,
            sink: inner.plan.kind(),
            sink_target: inner.plan.target(),
            state_file: Some(inner.store.path().to_path_buf()),
            state_persistent: inner.store.is_persistent(),
            last_install: rfc3339(state.install_sent_at),
            last_update: rfc3339(state.update_sent_at),
            last_health: rfc3339(state.health_sent_at),
            counters: pipeline::stats(),
            spool_file: inner.spool.as_ref().map(|s| s.path()),
            spool_pending: inner.spool.as_ref().map_or(0, |s| s.pending() as u64),
            #[cfg(feature = "posthog")]
            remote,
        }
    }
}

impl super::Inner {
    /// Whether the remote flag (if any) switched telemetry off (never, built without the
    /// `posthog` feature).
    pub(super) fn remotely_disabled(&self) -> bool {
        #[cfg(feature = "posthog")]
        if let Some(remote) = &self.remote {
            return remote.disabled();
        }
        false
    }
}

/// Which identity applies, and what that means, in words.
fn identity_source(
    install_id_pinned: bool,
    salt_pinned: bool,
    persistent: bool,
) -> (IdentitySource, &'static str) {
    match (install_id_pinned, salt_pinned, persistent) {
        (true, true, _) => (
            IdentitySource::PinnedByEnv,
            "TELEMETRY_INSTALL_ID and TELE_SALT pin the identity: every replica and restart \
             sharing both is one install",
        ),
        (true, false, _) => (
            IdentitySource::PinnedByEnv,
            "TELEMETRY_INSTALL_ID pins the install id, but the salt is this install state's \
             own: set TELE_SALT too for replicas without a shared volume to share one identity",
        ),
        (false, _, true) => (
            IdentitySource::Persisted,
            "the install state file: keep its directory on a volume so that restarts of a \
             container stay one install",
        ),
        (false, _, false) => (
            IdentitySource::InMemory,
            "in memory only: the state directory cannot be written, so every start is a new \
             install; mount a volume or set TELEMETRY_INSTALL_ID and TELE_SALT",
        ),
    }
}
