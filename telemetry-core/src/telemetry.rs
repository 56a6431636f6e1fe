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

mod plan;
#[cfg(feature = "posthog")]
mod remote_setup;
mod spool;
mod status;
mod watch;

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

/// Builds and installs the telemetry pipeline. See [`Telemetry::builder`].
///
/// ```no_run
/// use std::time::Duration;
/// let telemetry = telemetry_core::Telemetry::builder()
///     .app("timetracker", env!("CARGO_PKG_VERSION"))
///     .shutdown_timeout(Duration::from_secs(1))
///     .install();
/// # telemetry.shutdown();
/// ```
#[must_use = "call .install() to start telemetry"]
pub struct TelemetryBuilder {
    app_name: String,
    app_version: String,
    enabled_by_default: Option<bool>,
    posthog_key: Option<String>,
    posthog_host: Option<String>,
    state_dir: Option<PathBuf>,
    jsonl_path: Option<PathBuf>,
    sink: Option<Box<dyn Sink>>,
    pipeline: PipelineConfig,
    health_interval: Duration,
    env: Option<EnvConfig>,
    request_timeout: Duration,
    gzip: bool,
    spool_limits: SpoolLimits,
    #[cfg(feature = "posthog")]
    remote: remote_setup::RemoteConfig,
}

impl Default for TelemetryBuilder {
    fn default() -> TelemetryBuilder {
        TelemetryBuilder {
            app_name: "app".into(),
            app_version: "0.0.0".into(),
            enabled_by_default: None,
            posthog_key: None,
            posthog_host: None,
            state_dir: None,
            jsonl_path: None,
            sink: None,
            pipeline: PipelineConfig::default(),
            health_interval: Duration::from_secs(24 * 60 * 60),
            env: None,
            request_timeout: Duration::from_secs(5),
            gzip: true,
            spool_limits: SpoolLimits::default(),
            #[cfg(feature = "posthog")]
            remote: remote_setup::RemoteConfig::default(),
        }
    }
}

impl TelemetryBuilder {
    /// The application's name (used for the state directory) and version (sent as
    /// `app_version`; `APP_VERSION` overrides it).
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .app("timetracker", "1.4.0");
    /// # drop(builder);
    /// ```
    pub fn app(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.app_name = name.into();
        self.app_version = version.into();
        self
    }

    /// The default when neither the environment nor a persisted consent decides. Off unless set.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .enabled_by_default(true); // an opt-out product: on until someone says no
    /// # drop(builder);
    /// ```
    pub fn enabled_by_default(mut self, enabled: bool) -> Self {
        self.enabled_by_default = Some(enabled);
        self
    }

    /// A PostHog project key (and host) given in code; `POSTHOG_API_KEY` / `POSTHOG_HOST` win.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .posthog("phc_project_key", Some("https://eu.i.posthog.com".to_owned()));
    /// # drop(builder);
    /// ```
    pub fn posthog(mut self, api_key: impl Into<String>, host: Option<String>) -> Self {
        self.posthog_key = Some(api_key.into());
        self.posthog_host = host;
        self
    }

    /// Where the install state lives; `TELEMETRY_STATE_DIR` wins.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .state_dir("/var/lib/timetracker");
    /// # drop(builder);
    /// ```
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// The JSONL file used when no PostHog key is set (default `logs/telemetry.jsonl`).
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .jsonl_path("/var/log/timetracker/telemetry.jsonl");
    /// # drop(builder);
    /// ```
    pub fn jsonl_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.jsonl_path = Some(path.into());
        self
    }

    /// Sends to a sink of your own instead of PostHog or the JSONL file
    /// (`TELEMETRY_DEBUG=1` still wins).
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .sink(telemetry_core::sink::MemorySink::new().0);
    /// # drop(builder);
    /// ```
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// The queue bound: events beyond it are dropped and counted. Default 50 000.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .queue_capacity(10_000);
    /// # drop(builder);
    /// ```
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.pipeline.queue_capacity = capacity.max(1);
        self
    }

    /// Events per delivery. Default 500.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .batch_size(100);
    /// # drop(builder);
    /// ```
    pub fn batch_size(mut self, size: usize) -> Self {
        self.pipeline.batch_size = size.max(1);
        self
    }

    /// How long an event may wait for its batch to fill. Default 1 s.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .flush_interval(std::time::Duration::from_millis(200));
    /// # drop(builder);
    /// ```
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.pipeline.flush_interval = interval;
        self
    }

    /// How long shutdown may take. Default 2 s.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .shutdown_timeout(std::time::Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.pipeline.shutdown_timeout = timeout;
        self
    }

    /// How often a long-running process checks whether a health ping is due. Default 24 h.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .health_interval(std::time::Duration::from_secs(60 * 60));
    /// # drop(builder);
    /// ```
    pub fn health_interval(mut self, interval: Duration) -> Self {
        self.health_interval = interval;
        self
    }

    /// PostHog's per-request timeout. Default 5 s.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .request_timeout(std::time::Duration::from_secs(2));
    /// # drop(builder);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Whether PostHog request bodies are gzipped. Default on.
    ///
    /// ```
    /// let builder = telemetry_core::Telemetry::builder()
    ///     .gzip(false);
    /// # drop(builder);
    /// ```
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// Uses this configuration instead of reading the process environment (for tests).
    ///
    /// ```
    /// use telemetry_core::{EnvConfig, Switch};
    /// let env = EnvConfig { enable: Some(Switch::On), ..EnvConfig::default() };
    /// let builder = telemetry_core::Telemetry::builder().env(env);
    /// # drop(builder);
    /// ```
    pub fn env(mut self, env: EnvConfig) -> Self {
        self.env = Some(env);
        self
    }

    /// Reads the environment, loads the install state, starts the pipeline when telemetry is
    /// on and sends due lifecycle events in the background. Never panics and never blocks on
    /// the network; a problem becomes a warning and telemetry off.
    ///
    /// **Calling it again.** A process has one pipeline, and it belongs to the latest
    /// `install()`. The earlier handle keeps working for its own install state (status,
    /// consent, which are still persisted), but no longer starts or stops the pipeline; a
    /// worker it had started is shut down first, as by [`Telemetry::shutdown`] (so this call
    /// may then wait up to the previous shutdown bound). An
    /// opt-out through the earlier handle still reaches the new one at once when both use the
    /// same state file.
    ///
    /// ```no_run
    /// // First thing in `main`:
    /// telemetry_core::catalog::exit_if_requested();
    /// let telemetry = telemetry_core::Telemetry::builder()
    ///     .app("timetracker", env!("CARGO_PKG_VERSION"))
    ///     .install();
    /// // ... run the application ...
    /// telemetry.shutdown();
    /// ```
    pub fn install(self) -> Telemetry {
        let app = (self.app_name.clone(), self.app_version.clone());
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.install_inner(true))) {
            Ok(telemetry) => telemetry,
            Err(_) => {
                crate::warn::warn("telemetry failed to start and stays off");
                Telemetry::inert(app.0, app.1)
            }
        }
    }

    fn install_inner(self, own_pipeline: bool) -> Telemetry {
        let env = self.env.clone().unwrap_or_else(EnvConfig::from_env);
        if let Some(Switch::Invalid(value)) = &env.enable {
            crate::warn::warn(&format!(
                "ENABLE_TELEMETRY={value:?} is not one of true/1/yes/on or false/0/no/off: \
                 telemetry stays off"
            ));
        }
        let raw_version = env
            .app_version
            .clone()
            .unwrap_or_else(|| self.app_version.clone());
        let app_version = crate::config::sanitize_version(&raw_version).unwrap_or_else(|invalid| {
            crate::warn::warn(
                "the application version (APP_VERSION or the version given in code) is not a \
                 plain version token ([0-9A-Za-z.+-], at most 64 characters); it is sent as \"invalid\"",
            );
            invalid.to_owned()
        });
        let posthog_key = env
            .posthog_api_key
            .clone()
            .or_else(|| self.posthog_key.clone().filter(|k| !k.trim().is_empty()));
        let posthog_host = env
            .posthog_host
            .clone()
            .or_else(|| self.posthog_host.clone());
        let jsonl_path = self
            .jsonl_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_JSONL_PATH));
        let plan = SinkPlan::choose(&env, self.sink, posthog_key, posthog_host, jsonl_path);
        if let Some(warning) = plan.posthog_host().and_then(cleartext_host_warning) {
            crate::warn::warn(&warning);
        }
        let state_dir = env
            .state_dir
            .clone()
            .or(self.state_dir.clone())
            .unwrap_or_else(|| default_state_dir(&self.app_name, None));
        let store = Arc::new(StateStore::open(state_dir));
        let spool = spool_for(&plan, &store, self.spool_limits);
        let state = store.state();
        let identity = state.identity_for(env.tele_salt.as_deref(), env.install_id.as_deref());
        let watch = !env.pins_switch() && store.is_persistent();
        let context = Arc::new(InstallContext::new(
            &app_version,
            crate::environment::EnvironmentInfo::current(),
        ));
        #[cfg(feature = "posthog")]
        let remote = self.remote.build(&env, &plan, self.request_timeout, &store);
        let mut pipeline = lock_pipeline();
        pipeline.generations += 1;
        let generation = pipeline.generations;
        let inner = Arc::new(Inner {
            app_name: self.app_name,
            app_version,
            env,
            enabled_by_default: self.enabled_by_default,
            store,
            plan,
            spool,
            pipeline: self.pipeline,
            request_timeout: self.request_timeout,
            gzip: self.gzip,
            health_interval: self.health_interval,
            identity: Arc::new(RwLock::new(identity)),
            context,
            #[cfg(feature = "posthog")]
            remote,
            generation,
            machine: Mutex::new(Machine {
                consent: state.persisted_consent(),
                decision: (false, Reason::Default),
                shut_down: false,
            }),
            watcher: Mutex::new(None),
        });
        let mut previous = None;
        if own_pipeline {
            pipeline::set_capacity(inner.pipeline.queue_capacity);
            pipeline.owner = generation;
            pipeline.owner_inner = Arc::downgrade(&inner);
            pipeline::set_accepting(false);
            previous = pipeline.worker.take();
        }
        drop(pipeline);
        if let Some(previous) = previous {
            // The previous installation's worker delivers what it has (bounded, as its
            // shutdown would) before this one's starts: one worker on the queue at a time.
            previous.shutdown();
        }
        let telemetry = Telemetry { inner };
        {
            let mut machine = telemetry.inner.lock_machine();
            telemetry.inner.apply_locked(&mut machine);
        }
        if watch {
            *telemetry
                .inner
                .watcher
                .lock()
                .unwrap_or_else(|e| e.into_inner()) =
                watch::spawn(Arc::downgrade(&telemetry.inner));
        }
        telemetry
    }
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
        let pipeline = lock_pipeline();
        match pipeline.worker.as_ref() {
            Some(w) if pipeline.owner == self.inner.generation => {
                w.flush(self.inner.pipeline.shutdown_timeout)
            }
            _ => true,
        }
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
