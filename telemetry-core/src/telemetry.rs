//! The entry point: `Telemetry::builder().app(..).install()`, consent, status and shutdown.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;

use crate::config::{EnvConfig, Reason, Switch, decide};
use crate::fingerprint::Identity;
use crate::lifecycle::runner::LifecycleRunner;
use crate::pipeline::{self, PipelineConfig, Stats, WorkerHandle, WorkerSetup};
use crate::sink::{JsonlSink, PostHogOptions, PostHogSink, Sink, SinkError, StderrSink};
use crate::state::{Consent, StateStore, default_state_dir};
use crate::wire::WireEvent;

/// Where events go when telemetry is on and no PostHog key is set.
pub const DEFAULT_JSONL_PATH: &str = "logs/telemetry.jsonl";

/// The one worker of this process; a second `install()` replaces the first one's.
static WORKER: Mutex<Option<WorkerHandle>> = Mutex::new(None);

/// Builds and installs the telemetry pipeline. See [`Telemetry::builder`].
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
        }
    }
}

impl TelemetryBuilder {
    /// The application's name (used for the state directory) and version (sent as
    /// `app_version`; `APP_VERSION` overrides it).
    pub fn app(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.app_name = name.into();
        self.app_version = version.into();
        self
    }

    /// The default when neither the environment nor a persisted consent decides. Off unless set.
    pub fn enabled_by_default(mut self, enabled: bool) -> Self {
        self.enabled_by_default = Some(enabled);
        self
    }

    /// A PostHog project key (and host) given in code; `POSTHOG_API_KEY` / `POSTHOG_HOST` win.
    pub fn posthog(mut self, api_key: impl Into<String>, host: Option<String>) -> Self {
        self.posthog_key = Some(api_key.into());
        self.posthog_host = host;
        self
    }

    /// Where the install state lives; `TELEMETRY_STATE_DIR` wins.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// The JSONL file used when no PostHog key is set (default `logs/telemetry.jsonl`).
    pub fn jsonl_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.jsonl_path = Some(path.into());
        self
    }

    /// Sends to a sink of your own instead of PostHog or the JSONL file
    /// (`TELEMETRY_DEBUG=1` still wins).
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Box::new(sink));
        self
    }

    /// The queue bound: events beyond it are dropped and counted. Default 50 000.
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.pipeline.queue_capacity = capacity.max(1);
        self
    }

    /// Events per delivery. Default 500.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.pipeline.batch_size = size.max(1);
        self
    }

    /// How long an event may wait for its batch to fill. Default 1 s.
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.pipeline.flush_interval = interval;
        self
    }

    /// How long shutdown may take. Default 2 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.pipeline.shutdown_timeout = timeout;
        self
    }

    /// How often a long-running process checks whether a health ping is due. Default 24 h.
    pub fn health_interval(mut self, interval: Duration) -> Self {
        self.health_interval = interval;
        self
    }

    /// PostHog's per-request timeout. Default 5 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Whether PostHog request bodies are gzipped. Default on.
    pub fn gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// Uses this configuration instead of reading the process environment (for tests).
    pub fn env(mut self, env: EnvConfig) -> Self {
        self.env = Some(env);
        self
    }

    /// Reads the environment, loads the install state, starts the pipeline when telemetry is
    /// on and sends due lifecycle events in the background. Never panics and never blocks on
    /// the network; a problem becomes a warning and telemetry off.
    pub fn install(self) -> Telemetry {
        let app = (self.app_name.clone(), self.app_version.clone());
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.install_inner())) {
            Ok(telemetry) => telemetry,
            Err(_) => {
                crate::warn::warn("telemetry failed to start and stays off");
                Telemetry::inert(app.0, app.1)
            }
        }
    }

    fn install_inner(self) -> Telemetry {
        let env = self.env.clone().unwrap_or_else(EnvConfig::from_env);
        if let Some(Switch::Invalid(value)) = &env.enable {
            crate::warn::warn(&format!(
                "ENABLE_TELEMETRY={value:?} is not one of true/1/yes/on or false/0/no/off: \
                 telemetry stays off"
            ));
        }
        let app_version = env
            .app_version
            .clone()
            .unwrap_or_else(|| self.app_version.clone());
        let posthog_key = env
            .posthog_api_key
            .clone()
            .or_else(|| self.posthog_key.clone().filter(|k| !k.trim().is_empty()));
        let posthog_host = env
            .posthog_host
            .clone()
            .or_else(|| self.posthog_host.clone())
            .unwrap_or_else(crate::sink::posthog_default_host);
        let jsonl_path = self
            .jsonl_path
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_JSONL_PATH));
        let (sink_kind, sink_target) = if env.debug {
            ("stderr".to_owned(), None)
        } else if let Some(sink) = &self.sink {
            (sink.kind().to_owned(), sink.target())
        } else if posthog_key.is_some() {
            ("posthog".to_owned(), Some(posthog_host.clone()))
        } else {
            ("jsonl".to_owned(), Some(jsonl_path.display().to_string()))
        };
        let state_dir = env
            .state_dir
            .clone()
            .or(self.state_dir.clone())
            .unwrap_or_else(|| default_state_dir(&self.app_name, None));
        let store = Arc::new(StateStore::open(state_dir));
        let state = store.state();
        let identity = state.identity(env.tele_salt.as_deref());
        let consent = state.consent.as_ref().map(|c| c.enabled);
        let inner = Arc::new(Inner {
            app_name: self.app_name,
            app_version,
            env,
            enabled_by_default: self.enabled_by_default,
            consent: Mutex::new(consent),
            store,
            posthog_key,
            posthog_host,
            jsonl_path,
            custom_sink: self.sink.map(|s| Arc::new(Mutex::new(s))),
            sink_kind,
            sink_target,
            pipeline: self.pipeline,
            request_timeout: self.request_timeout,
            gzip: self.gzip,
            health_interval: self.health_interval,
            identity: Arc::new(RwLock::new(identity)),
            decision: Mutex::new((false, Reason::Default)),
            shut_down: Mutex::new(false),
        });
        pipeline::set_capacity(inner.pipeline.queue_capacity);
        let telemetry = Telemetry { inner };
        telemetry.apply_decision();
        telemetry
    }
}

/// The installed telemetry: a cheap, cloneable handle (`Send + Sync`).
///
/// Dropping the last clone shuts the pipeline down like [`Telemetry::shutdown`].
///
/// ```
/// use telemetry_core::{Telemetry, config::EnvConfig};
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
    consent: Mutex<Option<bool>>,
    store: Arc<StateStore>,
    posthog_key: Option<String>,
    posthog_host: String,
    jsonl_path: PathBuf,
    custom_sink: Option<Arc<Mutex<Box<dyn Sink>>>>,
    sink_kind: String,
    sink_target: Option<String>,
    pipeline: PipelineConfig,
    request_timeout: Duration,
    gzip: bool,
    health_interval: Duration,
    identity: Arc<RwLock<Identity>>,
    decision: Mutex<(bool, Reason)>,
    shut_down: Mutex<bool>,
}

/// What an admin page shows about telemetry. Never contains the salt or the API key.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Status {
    /// The application name.
    pub app_name: String,
    /// The version sent as `app_version`.
    pub app_version: String,
    /// Whether events are captured and sent.
    pub enabled: bool,
    /// Why, in words.
    pub reason: String,
    /// Why, as data.
    pub reason_code: Reason,
    /// The first 12 characters of the install fingerprint.
    pub fingerprint_short: String,
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
    /// Pipeline counters.
    pub counters: Stats,
}

impl Telemetry {
    /// Starts configuring telemetry.
    pub fn builder() -> TelemetryBuilder {
        TelemetryBuilder::default()
    }

    /// A handle that never sends anything (used when start-up itself failed).
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
        .install_inner()
    }

    /// Whether events are currently captured and sent.
    pub fn is_enabled(&self) -> bool {
        self.inner
            .decision
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
    }

    /// Status for an admin page.
    pub fn status(&self) -> Status {
        let (enabled, reason) = self
            .inner
            .decision
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let fingerprint = self
            .inner
            .identity
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .distinct_id()
            .to_owned();
        let posthog_configured = self.inner.posthog_key.is_some();
        let state = self.inner.store.state();
        let rfc3339 = |t: Option<chrono::DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        Status {
            app_name: self.inner.app_name.clone(),
            app_version: self.inner.app_version.clone(),
            enabled,
            reason: reason.to_string(),
            reason_code: reason,
            fingerprint_short: fingerprint[..12].to_owned(),
            posthog_configured,
            posthog_host: posthog_configured.then(|| self.inner.posthog_host.clone()),
            sink: self.inner.sink_kind.clone(),
            sink_target: self.inner.sink_target.clone(),
            state_file: Some(self.inner.store.path().to_path_buf()),
            state_persistent: self.inner.store.is_persistent(),
            last_install: rfc3339(state.install_sent_at),
            last_update: rfc3339(state.update_sent_at),
            last_health: rfc3339(state.health_sent_at),
            counters: pipeline::stats(),
        }
    }

    /// Persists an opt-in (or opt-out) decision and applies it at once: turning on starts
    /// sending (and sends the install ping if it never was); turning off stops sending
    /// immediately and discards what is still queued. The environment still wins
    /// (`DO_NOT_TRACK`, `ENABLE_TELEMETRY`). Never blocks on the network.
    pub fn set_consent(&self, enabled: bool) {
        self.set_consent_from(enabled, "application");
    }

    /// Like [`set_consent`](Telemetry::set_consent), recording what made the decision
    /// (for example `"setup"` or `"admin"`) in the install state.
    pub fn set_consent_from(&self, enabled: bool, source: &str) {
        self.inner
            .store
            .update(|s| s.consent = Some(Consent::new(enabled, source, Utc::now())));
        *self.inner.consent.lock().unwrap_or_else(|e| e.into_inner()) = Some(enabled);
        self.apply_decision();
    }

    /// Forgets this install: a new install id and salt (so a new fingerprint, unlinkable to
    /// the old one) and no record of lifecycle pings; the consent decision is kept.
    pub fn forget(&self) {
        // The identity stays write-locked while the state changes: a lifecycle ping the worker
        // decides on from the new state (the install is due again) must not be rendered with
        // the old fingerprint in between (it was, at a worker's start-up check).
        let mut identity = self
            .inner
            .identity
            .write()
            .unwrap_or_else(|e| e.into_inner());
        // Nothing captured under the old identity may be sent under the new one.
        pipeline::discard_pending();
        let state = self.inner.store.forget();
        *identity = state.identity(self.inner.env.tele_salt.as_deref());
        drop(identity);
        if let Some(worker) = WORKER.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            worker.check_lifecycle();
        }
    }

    /// Waits until what is queued had one delivery attempt, at most the shutdown bound.
    /// Returns whether it finished in time.
    pub fn flush(&self) -> bool {
        let worker = WORKER.lock().unwrap_or_else(|e| e.into_inner());
        match worker.as_ref() {
            Some(w) => w.flush(self.inner.pipeline.shutdown_timeout),
            None => true,
        }
    }

    /// Stops capturing, delivers what it can within the shutdown bound (2 s by default) and
    /// stops the worker. Idempotent; dropping the last handle does the same.
    pub fn shutdown(&self) {
        self.inner.shutdown();
    }

    /// Recomputes on/off from the switches and starts or stops the worker to match.
    fn apply_decision(&self) {
        let inner = &self.inner;
        if *inner.shut_down.lock().unwrap_or_else(|e| e.into_inner()) {
            return;
        }
        let consent = *inner.consent.lock().unwrap_or_else(|e| e.into_inner());
        let (enabled, reason) = decide(&inner.env, consent, inner.enabled_by_default);
        *inner.decision.lock().unwrap_or_else(|e| e.into_inner()) = (enabled, reason);
        let mut worker = WORKER.lock().unwrap_or_else(|e| e.into_inner());
        if enabled {
            if worker.is_none() {
                *worker = WorkerHandle::spawn(self.worker_setup());
            }
            pipeline::set_accepting(worker.is_some());
        } else {
            pipeline::set_accepting(false);
            if let Some(w) = worker.take() {
                w.discard_and_stop();
            }
        }
    }

    fn worker_setup(&self) -> WorkerSetup {
        let inner = &self.inner;
        let sink: Box<dyn Sink> = if inner.env.debug {
            Box::new(StderrSink)
        } else if let Some(custom) = &inner.custom_sink {
            Box::new(SharedSink(custom.clone()))
        } else if let Some(key) = &inner.posthog_key {
            let mut options = PostHogOptions::new(key.clone(), Some(inner.posthog_host.clone()));
            options.request_timeout = inner.request_timeout;
            options.gzip = inner.gzip;
            Box::new(PostHogSink::new(options))
        } else {
            Box::new(JsonlSink::new(inner.jsonl_path.clone()))
        };
        WorkerSetup {
            config: inner.pipeline.clone(),
            sink,
            identity: inner.identity.clone(),
            app_version: inner.app_version.clone(),
            lifecycle: Some(Box::new(LifecycleRunner {
                store: inner.store.clone(),
                app_version: inner.app_version.clone(),
                health_interval: inner.health_interval,
                failed: false,
            })),
        }
    }
}

impl Inner {
    fn shutdown(&self) {
        let mut shut_down = self.shut_down.lock().unwrap_or_else(|e| e.into_inner());
        if *shut_down {
            return;
        }
        *shut_down = true;
        pipeline::set_accepting(false);
        let worker = WORKER.lock().unwrap_or_else(|e| e.into_inner()).take();
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

/// A user-supplied sink, shared so a restarted worker can use it again.
struct SharedSink(Arc<Mutex<Box<dyn Sink>>>);

impl Sink for SharedSink {
    fn kind(&self) -> &'static str {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).kind()
    }

    fn target(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).target()
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(events)
    }
}
