//! The entry point: `Telemetry::builder().app(..).install()`, consent, status and shutdown.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};
use std::time::Duration;

use chrono::Utc;

use crate::config::{EnvConfig, Reason, Switch, cleartext_host_warning, decide_persisted};
use crate::fingerprint::Identity;
use crate::lifecycle::runner::LifecycleRunner;
use crate::pipeline::{self, PipelineConfig, WorkerHandle, WorkerSetup};
#[cfg(feature = "posthog")]
use crate::remote::Remote;
use crate::sink::Sink;
use crate::spool::{Spool, SpoolLimits};
use crate::state::{Consent, PersistedConsent, StateStore, default_state_dir};
use crate::wire::InstallContext;
use spool::spool_for;

mod builder;
mod plan;
#[cfg(feature = "posthog")]
mod remote_setup;
mod spool;
mod status;
mod watch;

pub use builder::TelemetryBuilder;
use plan::SinkPlan;
pub use status::{IdentitySource, Status};

/// Where events go when telemetry is on and no PostHog key is set.
///
/// ```
/// assert_eq!(telemetry_core::DEFAULT_JSONL_PATH, "logs/telemetry.jsonl");
/// ```
pub const DEFAULT_JSONL_PATH: &str = "logs/telemetry.jsonl";

/// The process's one pipeline and which installation owns it (the latest `install()`).
struct Pipeline {
    /// The generation of the owning installation (0: none yet).
    owner: u64,
    owner_inner: Weak<Inner>,
    worker: Option<WorkerHandle>,
    /// Generations handed out so far.
    generations: u64,
}

static PIPELINE: Mutex<Pipeline> = Mutex::new(Pipeline {
    owner: 0,
    owner_inner: Weak::new(),
    worker: None,
    generations: 0,
});

fn lock_pipeline() -> MutexGuard<'static, Pipeline> {
    PIPELINE.lock().unwrap_or_else(|e| e.into_inner())
}

/// The installed telemetry: a cheap, cloneable handle (`Send + Sync`).
///
/// Dropping the last clone shuts the pipeline down like [`Telemetry::shutdown`].
///
/// ```
/// use telemetry_core::{EnvConfig, Telemetry};
/// let telemetry = Telemetry::builder()
///     .app("doc-app", "1.0.0")
///     .env(EnvConfig::default()) // nothing set: off by default
///     .install();
/// assert!(!telemetry.status().enabled);
/// telemetry.shutdown();
/// ```
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    app_name: String,
    app_version: String,
    env: EnvConfig,
    enabled_by_default: Option<bool>,
    store: Arc<StateStore>,
    /// Where events go, chosen once at install.
    plan: SinkPlan,
    /// The outage spool, when events go to PostHog and the install state is on disk.
    spool: Option<Arc<Spool>>,
    pipeline: PipelineConfig,
    request_timeout: Duration,
    gzip: bool,
    health_interval: Duration,
    identity: Arc<RwLock<Identity>>,
    /// What every event carries about the install, computed once.
    context: Arc<InstallContext>,
    /// The remote kill switch, when a flag is configured and events go to PostHog.
    #[cfg(feature = "posthog")]
    remote: Option<Arc<Remote>>,
    /// This installation's number; it drives the pipeline while it is the latest.
    generation: u64,
    /// Consent, decision and shutdown, changed together under one lock.
    machine: Mutex<Machine>,
    /// The consent watcher; dropping it stops the thread.
    watcher: Mutex<Option<watch::Watcher>>,
}

/// The state machine: every change takes this lock, then (if it touches the pipeline) the
/// pipeline's, in that order.
struct Machine {
    consent: PersistedConsent,
    decision: (bool, Reason),
    shut_down: bool,
}

impl Telemetry {
    /// Starts configuring telemetry.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder().app("timetracker", "1.4.0");
    /// # drop(builder);
    /// ```
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    /// A handle that never sends anything and leaves the pipeline alone (start-up failed).
    fn inert(app_name: String, app_version: String) -> Telemetry {
        TelemetryBuilder {
            app_name,
            app_version,
            env: Some(EnvConfig {
                do_not_track: true,
                ..EnvConfig::default()
            }),
            ..TelemetryBuilder::default()
        }
        .install_inner(false)
    }

    /// Whether events are currently captured and sent: local consent has telemetry on, and
    /// the remote flag (if any) has not switched it off.
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Telemetry};
    /// let dir = tempfile::tempdir().unwrap();
    /// let telemetry = Telemetry::builder().state_dir(dir.path()).env(EnvConfig::default()).install();
    /// assert!(!telemetry.is_enabled()); // opt-in only
    /// # telemetry.shutdown();
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.inner.lock_machine().decision.0 && !self.inner.remotely_disabled()
    }

    /// Persists an opt-in (or opt-out) decision and applies it at once: turning on starts
    /// sending (and sends the install ping if it never was); turning off stops sending
    /// immediately and discards what is still queued. The environment still wins
    /// (`DO_NOT_TRACK`, `ENABLE_TELEMETRY`). Never blocks on the network.
    ///
    /// ```no_run
    /// # let dir = tempfile::tempdir().unwrap();
    /// let telemetry = telemetry_core::Telemetry::builder().state_dir(dir.path()).install();
    /// telemetry.set_consent(true); // the user ticked "share anonymous usage statistics"
    /// telemetry.set_consent(false); // and changed their mind: nothing more leaves the process
    /// assert!(!telemetry.is_enabled());
    /// ```
    pub fn set_consent(&self, enabled: bool) {
        self.set_consent_from(enabled, "application");
    }

    /// Like [`set_consent`](Telemetry::set_consent), recording what made the decision
    /// (for example `"setup"` or `"admin"`) in the install state.
    ///
    /// ```no_run
    /// # let dir = tempfile::tempdir().unwrap();
    /// let telemetry = telemetry_core::Telemetry::builder().state_dir(dir.path()).install();
    /// telemetry.set_consent_from(true, "setup");
    /// ```
    pub fn set_consent_from(&self, enabled: bool, source: &str) {
        let inner = &self.inner;
        {
            let mut machine = inner.lock_machine();
            inner
                .store
                .update(|s| s.record_consent(Consent::new(enabled, source, Utc::now())));
            machine.consent = PersistedConsent::Decided(enabled);
            inner.apply_locked(&mut machine);
        }
        // A superseded handle: the installation that owns the pipeline learns of the change
        // now if it shares this state file (its watcher would, within seconds).
        let owner = lock_pipeline().owner_inner.upgrade();
        if let Some(owner) = owner
            && owner.generation != inner.generation
            && owner.store.path() == inner.store.path()
        {
            owner.consent_changed_on_disk();
        }
    }

    /// Forgets this install: a new install id and salt (so a new fingerprint, unlinkable to
    /// the old one, unless `TELEMETRY_INSTALL_ID`/`TELE_SALT` pin them: see
    /// [`Status::salt_pinned`]) and no record of lifecycle pings; the consent decision is kept.
    /// Everything still queued is discarded first, so nothing captured before is sent under
    /// the new fingerprint; if telemetry is on, a new worker starts and sends the install ping
    /// of the new identity.
    ///
    /// ```no_run
    /// # let dir = tempfile::tempdir().unwrap();
    /// let telemetry = telemetry_core::Telemetry::builder().state_dir(dir.path()).install();
    /// let before = telemetry.status().fingerprint_short;
    /// telemetry.forget();
    /// assert_ne!(telemetry.status().fingerprint_short, before);
    /// ```
    pub fn forget(&self) {
        let inner = &self.inner;
        let mut machine = inner.lock_machine();
        {
            let mut pipeline = lock_pipeline();
            if pipeline.owner == inner.generation {
                pipeline::set_accepting(false);
                if let Some(worker) = pipeline.worker.take() {
                    // `discard_and_stop` withdraws first: when it returns nothing captured
                    // under the old identity can leave the process.
                    worker.discard_and_stop();
                }
            }
        }
        // Nothing captured under the old identity may be sent later either.
        inner.delete_spool();
        {
            let mut identity = inner.identity.write().unwrap_or_else(|e| e.into_inner());
            let state = inner.store.forget();
            *identity = state.identity_for(
                inner.env.tele_salt.as_deref(),
                inner.env.install_id.as_deref(),
            );
        }
        inner.apply_locked(&mut machine);
    }

    /// Waits until what is queued had one delivery attempt, at most the shutdown bound.
    /// Returns whether it finished in time.
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Telemetry};
    /// let dir = tempfile::tempdir().unwrap();
    /// let telemetry = Telemetry::builder().state_dir(dir.path()).env(EnvConfig::default()).install();
    /// assert!(telemetry.flush()); // off: nothing to wait for
    /// # telemetry.shutdown();
    /// ```
    pub fn flush(&self) -> bool {
        // Asked under the pipeline lock, waited for without it: an opt-out or a shutdown from
        // another thread is not held up by a flush that waits on a slow PostHog.
        let wait = {
            let pipeline = lock_pipeline();
            match pipeline.worker.as_ref() {
                Some(w) if pipeline.owner == self.inner.generation => w.request_flush(),
                _ => return true,
            }
        };
        wait.is_some_and(|w| w.wait(self.inner.pipeline.shutdown_timeout))
    }

    /// Stops capturing, delivers what it can within the shutdown bound (2 s by default) and
    /// stops the worker. Idempotent; dropping the last handle does the same. A consent change
    /// after shutdown is persisted but starts nothing.
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Telemetry};
    /// let dir = tempfile::tempdir().unwrap();
    /// let telemetry = Telemetry::builder().state_dir(dir.path()).env(EnvConfig::default()).install();
    /// telemetry.shutdown();
    /// telemetry.shutdown(); // idempotent
    /// assert!(!telemetry.status().pipeline_owner);
    /// ```
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }
}

impl Inner {
    fn lock_machine(&self) -> MutexGuard<'_, Machine> {
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Recomputes on/off and, unless shut down or superseded, starts or stops the worker to
    /// match. The caller holds the machine lock, so no shutdown can come in between.
    fn apply_locked(&self, machine: &mut Machine) {
        machine.decision = decide_persisted(&self.env, machine.consent, self.enabled_by_default);
        if machine.shut_down {
            if !machine.decision.0 {
                self.delete_spool();
            }
            return;
        }
        let mut pipeline = lock_pipeline();
        if pipeline.owner != self.generation {
            if !machine.decision.0 {
                self.delete_spool();
            }
            return;
        }
        if machine.decision.0 {
            if pipeline.worker.is_none() {
                pipeline.worker = WorkerHandle::spawn(self.worker_setup());
            }
            pipeline::set_accepting(pipeline.worker.is_some());
        } else {
            pipeline::set_accepting(false);
            if let Some(worker) = pipeline.worker.take() {
                // Withdraws (see `pipeline::withdraw`) before the worker is let go.
                worker.discard_and_stop();
            }
            // Telemetry is off: what an outage left behind is deleted unsent (after the
            // withdrawal, so the worker cannot spool anything afterwards).
            self.delete_spool();
        }
    }

    /// Applies the consent the state file holds now (written by another process, or another
    /// handle), through the same path as `set_consent`. Does nothing when the environment
    /// pins the switch: the decision would not change.
    fn consent_changed_on_disk(&self) {
        let mut machine = self.lock_machine();
        let on_disk = self.store.reload().persisted_consent();
        if on_disk != machine.consent {
            machine.consent = on_disk;
            self.apply_locked(&mut machine);
        }
    }

    fn worker_setup(&self) -> WorkerSetup {
        WorkerSetup {
            config: self.pipeline.clone(),
            sink: self.plan.build(self.request_timeout, self.gzip),
            identity: self.identity.clone(),
            context: self.context.clone(),
            #[cfg(feature = "posthog")]
            remote: self.remote.as_ref().map(|r| {
                r.attach(
                    self.identity.clone(),
                    self.context.clone(),
                    crate::consent_gate::epoch(),
                )
            }),
            lifecycle: Some(Box::new(LifecycleRunner {
                store: self.store.clone(),
                identity: self.identity.clone(),
                app_version: self.app_version.clone(),
                health_interval: self.health_interval,
                failed: false,
            })),
            spool: self.spool.clone(),
        }
    }

    fn shutdown(&self) {
        // Stops the watcher (it is never joined: it may be the thread dropping the last handle).
        drop(
            self.watcher
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
        let worker = {
            let mut machine = self.lock_machine();
            if machine.shut_down {
                return;
            }
            machine.shut_down = true;
            let mut pipeline = lock_pipeline();
            if pipeline.owner == self.generation {
                pipeline::set_accepting(false);
                pipeline.worker.take()
            } else {
                None
            }
        };
        // Outside the locks: this waits up to the shutdown bound.
        if let Some(worker) = worker {
            worker.shutdown();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown();
    }
}
