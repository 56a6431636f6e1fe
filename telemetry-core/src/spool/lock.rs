//! Exclusive file locks for the spool (`flock` on Unix), with a bounded wait.
//!
//! The spool's lock file is held only for file operations (milliseconds), never across a
//! network request; a claimed batch is protected by the lock on its own in-flight file.

use std::fs::{File, TryLockError};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long an operation waits for another process's file operation on the same spool.
const WAIT: Duration = Duration::from_secs(2);

/// Holds an exclusive lock until dropped.
pub(crate) struct Locked(#[expect(dead_code, reason = "held for its lock")] File);

/// Takes the exclusive lock on `path` (created owner-only), waiting at most [`WAIT`].
pub(crate) fn lock(path: &Path) -> io::Result<Locked> {
    let file = crate::state::private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let deadline = Instant::now() + WAIT;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Locked(file)),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "another process holds the spool lock",
                ));
            }
            Err(TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// Takes the exclusive lock on an open file at once, or `false` when another holder has it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(TryLockError::WouldBlock) => Ok(false),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Whether `file` is still linked in its directory (a locked file another process already
/// sent and removed must not be sent again).
pub(crate) fn still_linked(file: &File) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        file.metadata().is_ok_and(|m| m.nlink() > 0)
    }
    #[cfg(not(unix))]
    {
        file.metadata().is_ok()
    }
}
