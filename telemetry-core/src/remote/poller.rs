//! The thread that evaluates the flag: at once, then every interval, while its worker runs.
//!
//! Each request is made under the pipeline's consent gate, like a delivery: once consent is
//! withdrawn (a new epoch) no evaluation begins, and the thread ends.

use std::sync::{Arc, RwLock};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};

use super::Remote;
use super::flags::FlagsClient;
use crate::fingerprint::Identity;
use crate::wire::InstallContext;

/// Stops the poller when dropped (it finishes a request in progress first).
pub(super) struct Poller {
    _stop: Sender<()>,
}

/// Starts polling; `None` (with a warning, and the fallback decision released) if no thread
/// can be started.
pub(super) fn spawn(
    remote: Arc<Remote>,
    identity: Arc<RwLock<Identity>>,
    context: Arc<InstallContext>,
    epoch: u64,
) -> Option<Poller> {
    let (stop, stopped) = bounded::<()>(0);
    let thread_remote = remote.clone();
    let spawned = std::thread::Builder::new()
        .name("telemetry-remote-flag".into())
        .spawn(move || {
            let remote = thread_remote;
            // Built here, on a plain thread: never inside an async runtime.
            let client = match FlagsClient::new(&remote.endpoint) {
                Ok(client) => client,
                Err(e) => {
                    remote.apply(Err(e));
                    return;
                }
            };
            loop {
                let Some(request) = crate::consent_gate::begin(epoch) else {
                    return; // consent withdrawn or identity forgotten: this worker is done
                };
                let fingerprint = identity
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .distinct_id()
                    .to_owned();
                let outcome = client.evaluate(&fingerprint, &context);
                drop(request);
                remote.apply(outcome);
                match stopped.recv_timeout(remote.interval) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            }
        });
    match spawned {
        Ok(_) => Some(Poller { _stop: stop }),
        Err(e) => {
            remote.apply(Err(format!("cannot start the flag's thread: {e}")));
            None
        }
    }
}
