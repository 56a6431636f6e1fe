//! The consent watcher: notices a consent decision written to the install state by another
//! process (another replica, a CLI, an admin tool) and applies it within about two seconds.
//!
//! Every second it compares the state file's modification time, length and inode with what it
//! saw last (no read, no lock); only a change costs a re-read. Started only when the
//! environment does not pin the switch and the state is on disk.

use std::sync::Weak;
use std::time::Duration;

use crossbeam_channel::{Sender, bounded};

use super::Inner;

/// How often the state file is looked at.
pub(super) const POLL: Duration = Duration::from_secs(1);

/// Stops the watcher thread when dropped.
pub(super) struct Watcher {
    _stop: Sender<()>,
}

/// Starts watching for `inner`; `None` (with a warning) if no thread can be started.
pub(super) fn spawn(inner: Weak<Inner>) -> Option<Watcher> {
    let (stop, stopped) = bounded::<()>(0);
    let mut seen = inner.upgrade()?.store.disk_stamp();
    let spawned = std::thread::Builder::new()
        .name("telemetry-consent-watch".into())
        .spawn(move || {
            // Ends when the sender is dropped (shutdown) or the installation is gone.
            while let Err(crossbeam_channel::RecvTimeoutError::Timeout) = stopped.recv_timeout(POLL)
            {
                let Some(inner) = inner.upgrade() else { return };
                let now = inner.store.disk_stamp();
                if now != seen {
                    seen = now;
                    inner.consent_changed_on_disk();
                }
            }
        });
    match spawned {
        Ok(_) => Some(Watcher { _stop: stop }),
        Err(e) => {
            crate::warn::warn(&format!(
                "cannot watch the install state for consent changes by other processes: {e}"
            ));
            None
        }
    }
}
