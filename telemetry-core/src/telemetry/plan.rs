//! Where events go, chosen once at install: the dry run, a custom sink, PostHog, or the
//! JSONL file.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config::EnvConfig;
use crate::pipeline::Destination;
use crate::sink::{JsonlSink, Sink, SinkError, StderrSink};
#[cfg(feature = "posthog")]
use crate::sink::{PostHogOptions, PostHogSink};
use crate::wire::WireEvent;

/// The sink plan. [`SinkPlan::build`] makes a fresh sink for each worker started from it.
pub(super) enum SinkPlan {
    /// `TELEMETRY_DEBUG=1`: every event on stderr, nothing sent.
    Stderr,
    /// The application's own sink, shared so a restarted worker can use it again.
    Custom(Arc<Mutex<Box<dyn Sink>>>),
    /// PostHog with the project key.
    #[cfg(feature = "posthog")]
    PostHog { key: String, host: String },
    /// No key: the local JSONL log.
    Jsonl(PathBuf),
}

impl SinkPlan {
    /// Precedence: the dry run, then a sink given in code, then PostHog when a key is set
    /// (at `posthog_host`, else PostHog's default host), else the JSONL file. Built without
    /// the `posthog` feature, a key is ignored with one warning and events go to the JSONL file.
    pub(super) fn choose(
        env: &EnvConfig,
        custom: Option<Box<dyn Sink>>,
        posthog_key: Option<String>,
        posthog_host: Option<String>,
        jsonl_path: PathBuf,
    ) -> SinkPlan {
        if env.debug {
            SinkPlan::Stderr
        } else if let Some(sink) = custom {
            SinkPlan::Custom(Arc::new(Mutex::new(sink)))
        } else if let Some(key) = posthog_key {
            posthog_plan(key, posthog_host, jsonl_path)
        } else {
            SinkPlan::Jsonl(jsonl_path)
        }
    }

    /// The sink's kind, for `Status::sink`.
    pub(super) fn kind(&self) -> String {
        match self {
            SinkPlan::Stderr => "stderr".into(),
            SinkPlan::Custom(sink) => lock(sink).kind().into(),
            #[cfg(feature = "posthog")]
            SinkPlan::PostHog { .. } => "posthog".into(),
            SinkPlan::Jsonl(_) => "jsonl".into(),
        }
    }

    /// The sink's destination, for `Status::sink_target`; never a secret.
    pub(super) fn target(&self) -> Option<String> {
        match self {
            SinkPlan::Stderr => None,
            SinkPlan::Custom(sink) => lock(sink).target(),
            #[cfg(feature = "posthog")]
            SinkPlan::PostHog { host, .. } => Some(host.clone()),
            SinkPlan::Jsonl(path) => Some(path.display().to_string()),
        }
    }

    /// The PostHog host, when events go to PostHog.
    pub(super) fn posthog_host(&self) -> Option<&str> {
        self.posthog().map(|(_key, host)| host)
    }

    /// The project key and host, when events go to PostHog (never, built without the
    /// `posthog` feature).
    pub(super) fn posthog(&self) -> Option<(&str, &str)> {
        #[cfg(feature = "posthog")]
        if let SinkPlan::PostHog { key, host } = self {
            return Some((key, host));
        }
        None
    }

    /// A sink for a new worker (the timeout and gzip are PostHog's).
    #[cfg_attr(
        not(feature = "posthog"),
        expect(unused_variables, reason = "PostHog's settings")
    )]
    pub(super) fn build(&self, request_timeout: Duration, gzip: bool) -> Destination {
        match self {
            SinkPlan::Stderr => Destination::Sink(Box::new(StderrSink)),
            SinkPlan::Custom(sink) => Destination::Sink(Box::new(SharedSink(sink.clone()))),
            #[cfg(feature = "posthog")]
            SinkPlan::PostHog { key, host } => {
                let mut options = PostHogOptions::new(key.clone(), Some(host.clone()));
                options.request_timeout = request_timeout;
                options.gzip = gzip;
                Destination::PostHog(Box::new(PostHogSink::new(options)))
            }
            SinkPlan::Jsonl(path) => Destination::Sink(Box::new(JsonlSink::new(path.clone()))),
        }
    }
}

/// PostHog with the project key, at the configured host or PostHog's default.
#[cfg(feature = "posthog")]
fn posthog_plan(key: String, host: Option<String>, _jsonl_path: PathBuf) -> SinkPlan {
    let host = host.unwrap_or_else(crate::sink::posthog_default_host);
    SinkPlan::PostHog { key, host }
}

/// Built without the `posthog` feature: the key cannot be used, so events stay in the local
/// JSONL file (the plan without a key), and the application is told once, at install (a
/// library's `default-features = false` must not silently lose the binary's PostHog delivery).
#[cfg(not(feature = "posthog"))]
fn posthog_plan(_key: String, _host: Option<String>, jsonl_path: PathBuf) -> SinkPlan {
    crate::warn::warn(&without_posthog_warning(&jsonl_path));
    SinkPlan::Jsonl(jsonl_path)
}

/// The warning for a PostHog key that this build cannot use.
#[cfg(not(feature = "posthog"))]
fn without_posthog_warning(jsonl_path: &std::path::Path) -> String {
    format!(
        "a PostHog project key is configured (POSTHOG_API_KEY or TelemetryBuilder::posthog), \
         but telemetry-core was built without its `posthog` feature, so nothing is sent to PostHog: events go to the local JSONL log {} \
         instead. Enable the feature in the binary's Cargo.toml (telemetry-core's default \
         features, or `features = [\"posthog\"]`).",
        jsonl_path.display()
    )
}

fn lock(sink: &Mutex<Box<dyn Sink>>) -> std::sync::MutexGuard<'_, Box<dyn Sink>> {
    sink.lock().unwrap_or_else(|e| e.into_inner())
}

/// A user-supplied sink, shared so a restarted worker can use it again.
struct SharedSink(Arc<Mutex<Box<dyn Sink>>>);

impl Sink for SharedSink {
    fn kind(&self) -> &'static str {
        lock(&self.0).kind()
    }

    fn target(&self) -> Option<String> {
        lock(&self.0).target()
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        lock(&self.0).send(events)
    }

    fn lanes(&self) -> usize {
        lock(&self.0).lanes()
    }

    fn send_all(&mut self, batches: &[&[WireEvent]]) -> Vec<Result<(), SinkError>> {
        lock(&self.0).send_all(batches)
    }
}
