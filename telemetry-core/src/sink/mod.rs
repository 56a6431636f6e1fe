//! Where rendered events go: PostHog, a JSONL file, stderr (dry run), memory, or a sink of your
//! own.
//!
//! A sink runs on the pipeline's worker thread only, so it may block on I/O; the handlers that
//! captured the events never wait for it. Public here: the [`Sink`] trait, the [`WireEvent`] it
//! receives, its [`SinkError`], and the [`MemorySink`] for tests; the built-in PostHog, JSONL
//! and stderr sinks are chosen by [`TelemetryBuilder`](crate::TelemetryBuilder) and the
//! environment.
//!
//! A custom sink receives each batch on the worker thread:
//!
//! ```no_run
//! use telemetry_core::sink::{Sink, SinkError, WireEvent};
//! use telemetry_core::Telemetry;
//!
//! /// Forwards event names to the application's own log.
//! struct LogSink;
//!
//! impl Sink for LogSink {
//!     fn kind(&self) -> &'static str {
//!         "log"
//!     }
//!     fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
//!         for event in events {
//!             println!("telemetry: {}", event.event);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let telemetry = Telemetry::builder().app("myapp", "1.0.0").sink(LogSink).install();
//! # telemetry.shutdown();
//! ```

mod jsonl;
mod memory;
#[cfg(feature = "posthog")]
mod posthog;
mod stderr;

pub(crate) use jsonl::JsonlSink;
pub use memory::{MemoryEvents, MemorySink};
#[cfg(feature = "posthog")]
pub(crate) use posthog::{PostHogOptions, PostHogSink, posthog_default_host};
pub(crate) use stderr::StderrSink;

pub use crate::wire::WireEvent;

/// A destination for rendered events.
///
/// ```
/// use telemetry_core::sink::{Sink, SinkError, WireEvent};
///
/// struct Count(usize);
/// impl Sink for Count {
///     fn kind(&self) -> &'static str { "count" }
///     fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
///         self.0 += events.len();
///         Ok(())
///     }
/// }
/// ```
pub trait Sink: Send + 'static {
    /// A short name for status pages: `"posthog"`, `"jsonl"`, `"stderr"`, `"memory"`.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink};
    /// assert_eq!(MemorySink::new().0.kind(), "memory");
    /// ```
    fn kind(&self) -> &'static str;

    /// Where events go, for status pages (a host or a path); never a secret.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink};
    /// assert_eq!(MemorySink::new().0.target(), None);
    /// ```
    fn target(&self) -> Option<String> {
        None
    }

    /// Delivers a batch. An error means none of the batch is known to have arrived.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink};
    /// let (mut sink, events) = MemorySink::new();
    /// sink.send(&[]).unwrap();
    /// assert!(events.take().is_empty());
    /// ```
    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError>;
}

/// Why a sink could not deliver a batch.
///
/// ```
/// use telemetry_core::sink::SinkError;
/// let error = SinkError::new("disk full");
/// assert_eq!(error.to_string(), "disk full");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError {
    message: String,
}

impl SinkError {
    /// A delivery error with a message for the log.
    ///
    /// ```
    /// let error = telemetry_core::sink::SinkError::new("HTTP 503");
    /// assert_eq!(error.to_string(), "HTTP 503");
    /// ```
    pub fn new(message: impl Into<String>) -> SinkError {
        SinkError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}
