//! The cross-process lock on the state directory.

use std::fs::{File, TryLockError};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use super::{LOCK_FILE_NAME, LOCK_TIMEOUT};

pub(super) const CANNOT_OPEN_LOCK: &str = "cannot open the lock file";

/// Holds the exclusive lock on `install.json.lock` until dropped.
pub(super) struct DirLock(File);

impl Drop for DirLock {
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
pub(super) fn lock_dir(dir: &Path, abandoned: &Arc<AtomicBool>) -> Result<DirLock, String> {
    let file = super::file::private_file_options()
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
