//! The builder: every setting of an installation, and `install()`, which decides, plans the
//! sinks and starts (or takes over) the process's one pipeline.

use super::*;

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
    pub(super) app_name: String,
    pub(super) app_version: String,
    pub(super) enabled_by_default: Option<bool>,
    pub(super) posthog_key: Option<String>,
    pub(super) posthog_host: Option<String>,
    pub(super) state_dir: Option<PathBuf>,
    pub(super) jsonl_path: Option<PathBuf>,
    pub(super) sink: Option<Box<dyn Sink>>,
    pub(super) pipeline: PipelineConfig,
    pub(super) health_interval: Duration,
    pub(super) env: Option<EnvConfig>,
    pub(super) request_timeout: Duration,
    pub(super) gzip: bool,
    pub(super) spool_limits: SpoolLimits,
    #[cfg(feature = "posthog")]
    pub(super) remote: remote_setup::RemoteConfig,
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

    pub(super) fn install_inner(self, own_pipeline: bool) -> Telemetry {
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
