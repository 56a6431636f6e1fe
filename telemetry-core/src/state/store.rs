//! The store: the install state shared by the threads of a process and with other processes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::file::{
    Read, Salvaged, apply_salvaged, create_private_dir, move_aside, probe_writable, read_state,
    replacement_for_corrupt, write_atomic,
};
use super::lock::{CANNOT_OPEN_LOCK, lock_dir};
use super::{InstallState, LOCK_FILE_NAME, STATE_DIR_ENV, STATE_FILE_NAME, default_state_dir};
use crate::warn::warn;

/// The install state on disk (or in memory when the disk cannot be used), shared by every
/// thread of the process and safe against other processes using the same directory.
///
/// ```
/// use telemetry_core::__private::internals::state::StateStore;
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
    /// let store = telemetry_core::__private::internals::state::StateStore::open(dir.path()); // warns once
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
    /// let store = telemetry_core::__private::internals::state::StateStore::open_for_app("timetracker");
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
    /// let store = telemetry_core::__private::internals::state::StateStore::open(dir.path());
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
    /// let store = telemetry_core::__private::internals::state::StateStore::open(file.path().join("sub"));
    /// assert!(!store.is_persistent());
    /// ```
    pub fn is_persistent(&self) -> bool {
        self.backed_by_file && self.last_write_ok.load(Ordering::Relaxed)
    }

    /// A copy of the current state, as of this process's last read or write. Cheap: no I/O.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = telemetry_core::__private::internals::state::StateStore::open(dir.path());
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
    /// use telemetry_core::__private::internals::state::StateStore;
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
    /// use telemetry_core::__private::internals::state::{Consent, StateStore};
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
            Read::Corrupt(reason, salvaged) => {
                // This process's identity stays; the consent is taken as the file's opt-out
                // if readable, else this process's own decision is kept (it was read or made
                // while the file was intact).
                if salvaged == Salvaged::OptOut {
                    apply_salvaged(&mut cached, salvaged);
                }
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
    /// let store = telemetry_core::__private::internals::state::StateStore::open(dir.path());
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

    /// What identifies the file's current version without reading it: modification time,
    /// length and (on Unix) inode. Every write renames a new file into place, so a change by
    /// any writer changes the inode even within one mtime tick. `None` when in memory only or
    /// the file cannot be inspected.
    pub(crate) fn disk_stamp(&self) -> Option<DiskStamp> {
        if !self.backed_by_file {
            return None;
        }
        let meta = std::fs::symlink_metadata(&self.path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Some(DiskStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }

    fn lock_cache(&self) -> MutexGuard<'_, InstallState> {
        // A panic in a caller's closure must not make the state unusable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// See [`StateStore::disk_stamp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DiskStamp {
    modified: Option<std::time::SystemTime>,
    len: u64,
    inode: u64,
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
    if let Err(e) = create_private_dir(dir) {
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
        Read::Corrupt(reason, salvaged) => {
            let moved = move_aside(path);
            let corrupt = format!(
                "{}; {}",
                corrupt_message(path, &reason, &moved),
                match salvaged {
                    Salvaged::OptOut => "its opt-out was readable and is kept",
                    Salvaged::Unknown => {
                        "its consent could not be read: telemetry stays off until consent is given again"
                    }
                }
            );
            if moved.is_err() {
                // The directory is not writable: keep the bad file, run on a fresh state.
                problems.push(format!("{corrupt}; {MEMORY_ONLY}"));
                return Loaded::in_memory(replacement_for_corrupt(salvaged), problems);
            }
            problems.push(corrupt);
            (replacement_for_corrupt(salvaged), true)
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
