//! The outage spool: events PostHog did not take, kept on disk until it does.
//!
//! When a delivery to PostHog fails after its retries, or a shutdown runs out of time while a
//! batch is on the wire, the events (exactly as rendered, with their `uuid` and `timestamp`)
//! are written to `spool-<binding>.jsonl` next to the install state. The worker re-sends them
//! when PostHog recovers (on its periodic tick, with backoff), and the next run sends them
//! first. A re-send carries the same `uuid`, so PostHog deduplicates a batch that did arrive.
//! A batch PostHog rejects for good
//! ([`SinkError::is_permanent`](crate::sink::SinkError::is_permanent)) is never spooled, and a
//! spooled batch whose re-send is rejected that way is removed (counted in
//! `Stats::spool_rejected`).
//!
//! - **Bound to its destination**: the file name and header hold SHA-256 of host and project
//!   key; a spool is only read by a process configured with the same pair.
//! - **Bounded**: [`SpoolLimits`], by default 10 MiB and 7 days. Overflow drops the oldest
//!   events, expiry the stale ones; both are counted in [`Stats`](crate::Stats).
//! - **Crash-safe**: JSON lines; a torn or garbage line is skipped ([`parse`]).
//! - **Shared safely**: file operations take `spool-<binding>.lock`; a batch being sent lives
//!   in its own `spool-<binding>.inflight-*.jsonl`, locked by its sender, so two processes
//!   sharing the state directory never send the same event. An in-flight file left by a
//!   process that died (or ran out of shutdown time) is sent again by the next claim.
//! - **Consent-gated**: opting out, `forget()`, or a run that finds telemetry off deletes every
//!   spool file unsent ([`delete_all`]).
//! - Owner-only files (`0600`, never through a symbolic link).

mod file;
mod lock;
mod record;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use file::Claim;
pub use record::{FORMAT, Header, parse};

/// Every spool file's name starts with this.
const PREFIX: &str = "spool-";

/// How big and how old the outage spool may get.
///
/// The outage spool keeps the events PostHog did not take (delivery failed after its retries,
/// or a shutdown ran out of time while a batch was on the wire) in `spool-<binding>.jsonl`
/// next to the install state, owner-only, and sends them when PostHog recovers or on the next
/// run, with their original `uuid` and `timestamp` so PostHog deduplicates. A spool is only
/// read by a process configured with the same host and project key, and is deleted unsent
/// when telemetry is off. Overflow drops the oldest events, expiry the stale ones; both are
/// counted in [`Stats`](crate::Stats). Set on the builder with
/// [`TelemetryBuilder::spool_limits`](crate::TelemetryBuilder::spool_limits).
///
/// ```
/// use std::time::Duration;
/// use telemetry_core::SpoolLimits;
///
/// let limits = SpoolLimits { max_age: Duration::from_secs(24 * 60 * 60), ..SpoolLimits::default() };
/// assert_eq!(limits.max_bytes, 10 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Bytes on disk across the spool and its in-flight files. Default 10 MiB (about 20 000
    /// events of 500 bytes). Beyond it the oldest events are dropped and counted.
    pub max_bytes: u64,
    /// Events older than this (by their `timestamp`) are dropped unsent and counted.
    /// Default 7 days.
    pub max_age: Duration,
}

impl Default for SpoolLimits {
    fn default() -> SpoolLimits {
        SpoolLimits {
            max_bytes: 10 * 1024 * 1024,
            max_age: Duration::from_secs(7 * 24 * 60 * 60),
        }
    }
}

/// The spool of one destination (host and project key) in one state directory.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    /// `spool-<first 16 hex of the binding>`.
    stem: String,
    header: Header,
    limits: SpoolLimits,
}

impl Spool {
    /// The spool for events sent to `host` with `key`, in `dir` (the install state's
    /// directory). Touches nothing on disk.
    ///
    /// ```
    /// use telemetry_core::SpoolLimits;
    /// use telemetry_core::__private::internals::spool::Spool;
    /// let dir = tempfile::tempdir().unwrap();
    /// let spool = Spool::new(dir.path(), "https://eu.i.posthog.com", "phc_key", SpoolLimits::default());
    /// assert!(spool.path().file_name().unwrap().to_str().unwrap().starts_with("spool-"));
    /// assert!(!spool.path().to_str().unwrap().contains("phc_key"));
    /// assert_eq!(spool.pending(), 0);
    /// ```
    pub fn new(dir: impl Into<PathBuf>, host: &str, key: &str, limits: SpoolLimits) -> Spool {
        let binding = binding(host, key);
        Spool {
            dir: dir.into(),
            stem: format!("{PREFIX}{}", &binding[..16]),
            header: Header {
                spool: FORMAT.to_owned(),
                host: host.to_owned(),
                binding,
            },
            limits,
        }
    }

    /// The spool file (it may not exist).
    pub fn path(&self) -> PathBuf {
        self.dir.join(format!("{}.jsonl", self.stem))
    }

    /// The limits it keeps to.
    pub fn limits(&self) -> SpoolLimits {
        self.limits
    }

    /// Events waiting in the spool and its in-flight files: their complete lines after the
    /// header (cheap enough for every status page or metrics scrape; a damaged line still
    /// counts until the next rewrite drops it).
    pub fn pending(&self) -> usize {
        self.files()
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|bytes| bytecount_lines(&bytes).saturating_sub(1))
            .sum()
    }

    fn lock_path(&self) -> PathBuf {
        self.dir.join(format!("{}.lock", self.stem))
    }

    /// The spool file and its in-flight files that exist, in-flight ones (the oldest) first.
    fn files(&self) -> Vec<PathBuf> {
        let mut files = self.in_flight_files();
        let main = self.path();
        if main.exists() {
            files.push(main);
        }
        files
    }

    /// In-flight files, oldest first (their names start with a timestamp).
    fn in_flight_files(&self) -> Vec<PathBuf> {
        let prefix = format!("{}.inflight-", self.stem);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect();
        files.sort();
        files
    }
}

/// Complete, non-empty lines.
fn bytecount_lines(bytes: &[u8]) -> usize {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| l.len() > 1 && l.ends_with(b"\n"))
        .count()
}

/// Lowercase hex SHA-256 of `host + "\n" + key`.
fn binding(host: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{host}\n{key}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Deletes every spool file in `dir`, whatever destination it was for (consent is gone, or the
/// install was forgotten). Returns how many files were removed.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("spool-0123.jsonl"), "x\n").unwrap();
/// std::fs::write(dir.path().join("install.json"), "{}").unwrap();
/// assert_eq!(telemetry_core::__private::internals::spool::delete_all(dir.path()), 1);
/// assert!(dir.path().join("install.json").exists());
/// ```
pub fn delete_all(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && !name.ends_with(".lock")
        })
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

#[cfg(test)]
mod tests;
