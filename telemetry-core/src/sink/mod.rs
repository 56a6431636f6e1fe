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

    /// Delivers a batch. An error means none of the batch is known to have arrived; make it
    /// [`SinkError::permanent`] when sending the same batch again can never succeed.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink};
    /// let (mut sink, events) = MemorySink::new();
    /// sink.send(&[]).unwrap();
    /// assert!(events.take().is_empty());
    /// ```
    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError>;

    /// How many batches [`Sink::send_all`] can send at once; one unless the sink says
    /// otherwise. On a backlog the pipeline hands a sink up to this many batches (at most two)
    /// in one call and renders them on as many threads. The PostHog sink has two lanes.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink};
    /// assert_eq!(MemorySink::new().0.lanes(), 1);
    /// ```
    fn lanes(&self) -> usize {
        1
    }

    /// Delivers several batches, returning one outcome per batch, in order (each with the
    /// meaning of [`Sink::send`]'s). The default sends them one after another; a sink with
    /// more than one [lane](Sink::lanes) may send them at once.
    ///
    /// ```
    /// use telemetry_core::sink::{MemorySink, Sink, WireEvent};
    /// let (mut sink, events) = MemorySink::new();
    /// let one = [WireEvent {
    ///     event: "report.exported".into(),
    ///     distinct_id: "ab12".into(),
    ///     uuid: "0190c8d2-7a40-7000-8000-000000000000".into(),
    ///     timestamp: "2026-01-01T00:00:00Z".into(),
    ///     properties: Default::default(),
    /// }];
    /// let outcomes = sink.send_all(&[&one, &one]);
    /// assert_eq!(outcomes, [Ok(()), Ok(())]);
    /// assert_eq!(events.take().len(), 2);
    /// ```
    fn send_all(&mut self, batches: &[&[WireEvent]]) -> Vec<Result<(), SinkError>> {
        batches.iter().map(|events| self.send(events)).collect()
    }
}

/// Why a sink could not deliver a batch, and whether trying again could help.
///
/// A *temporary* error ([`SinkError::new`]: the destination is down, overloaded, or timed
/// out) lets the pipeline keep the batch in the outage spool, when there is one, and send it
/// again later. A *permanent* one ([`SinkError::permanent`]: the destination answered that it
/// will never take this batch, e.g. a bad credential or a malformed request) counts the events
/// as failed and drops them at once; a spooled batch rejected for good is removed from the
/// spool. Both are counted in [`Stats::failed`](crate::Stats::failed) on a first attempt.
///
/// ```
/// use telemetry_core::sink::SinkError;
/// let error = SinkError::new("disk full");
/// assert_eq!(error.to_string(), "disk full");
/// assert!(!error.is_permanent());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkError {
    message: String,
    permanent: bool,
}

impl SinkError {
    /// A temporary delivery error with a message for the log: the batch may be sent again.
    ///
    /// ```
    /// let error = telemetry_core::sink::SinkError::new("HTTP 503");
    /// assert_eq!(error.to_string(), "HTTP 503");
    /// assert!(!error.is_permanent());
    /// ```
    pub fn new(message: impl Into<String>) -> SinkError {
        SinkError {
            message: message.into(),
            permanent: false,
        }
    }

    /// A permanent rejection: sending this batch again can never succeed, so it is not kept
    /// for a retry.
    ///
    /// ```
    /// use telemetry_core::sink::{Sink, SinkError, WireEvent};
    ///
    /// /// Refuses events it has no table for; a full disk is worth another try.
    /// struct Archive;
    /// impl Sink for Archive {
    ///     fn kind(&self) -> &'static str { "archive" }
    ///     fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
    ///         match events.iter().find(|e| !e.event.contains('.')) {
    ///             Some(e) => Err(SinkError::permanent(format!("no table for {}", e.event))),
    ///             None => Ok(()),
    ///         }
    ///     }
    /// }
    ///
    /// let error = SinkError::permanent("HTTP 401: invalid project key");
    /// assert!(error.is_permanent());
    /// assert_eq!(error.to_string(), "HTTP 401: invalid project key");
    /// ```
    pub fn permanent(message: impl Into<String>) -> SinkError {
        SinkError {
            message: message.into(),
            permanent: true,
        }
    }

    /// Whether the destination rejected the batch for good (see [`SinkError::permanent`]).
    ///
    /// ```
    /// use telemetry_core::sink::SinkError;
    /// assert!(SinkError::permanent("HTTP 400").is_permanent());
    /// assert!(!SinkError::new("connection refused").is_permanent());
    /// ```
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SinkError {}
