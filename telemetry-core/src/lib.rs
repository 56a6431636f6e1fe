//! Privacy-first product analytics for Rust.
//!
//! Annotate a handler once; the event is registered in a compile-time catalog and captured when
//! the handler runs, opt-in only, under an anonymous salted fingerprint, with no personal data:
//!
//! ```
//! use telemetry_core::track_event;
//!
//! /// A project was created.
//! #[track_event("project.created", on = "success", props(project_id = id, billable = billable))]
//! fn create_project(id: u64, billable: bool) -> Result<u64, String> {
//!     Ok(id)
//! }
//!
//! let names: Vec<_> = telemetry_core::catalog().events().iter().map(|e| e.name).collect();
//! assert!(names.contains(&"project.created"));
//! ```
//!
//! # Public API
//!
//! Everything below is the crate's semver promise; every other module is private.
//!
//! Declaring events:
//!
//! - [`track_event`]: the attribute that declares an event and captures it when the function runs.
//! - [`track!`]: captures an event from inside a body.
//! - [`PropertyValue`](derive@PropertyValue): the derive for enums and newtypes sent as properties.
//! - [`PropertyValue`](trait@PropertyValue): the sealed trait of property values.
//! - [`Hashed`]: a value sent only as a salted SHA-256 (identifiers).
//! - [`HashSource`] and [`HashInput`]: what `Hashed(..)` and `distinct_id = ..` accept.
//! - [`PropValue`], [`StaticText`] and [`ValueKind`]: a property value as captured, and its kind.
//! - [`Outcome`]: what `on = "success"` / `"failure"` ask of a return value.
//!
//! Running the pipeline:
//!
//! - [`Telemetry`] and [`TelemetryBuilder`]: install, consent, forget, flush, shutdown.
//! - [`Status`] and [`IdentitySource`]: what an admin page shows.
//! - `RemoteStatus` and `DecisionSource` (feature `posthog`): the remote kill switch, as
//!   [`Status`] shows it.
//! - [`Stats`] and [`stats()`]: the pipeline's counters.
//! - [`EnvConfig`], [`Switch`] and [`Reason`]: the environment switches, and why telemetry is on.
//! - [`SpoolLimits`]: the outage spool's bounds.
//! - [`DEFAULT_JSONL_PATH`]: where events go when no PostHog key is set.
//! - [`sink`]: the [`Sink`](sink::Sink) trait, its [`WireEvent`](sink::WireEvent), the memory sink.
//!
//! The catalog and its documents:
//!
//! - [`catalog()`] and [`Catalog`]: every event this binary can send.
//! - [`catalog`](mod@catalog): its renderers, document check, diff, lints and command line.
//! - [`app_info!`]: the application's name for the documents, from Cargo.
//! - [`EventDef`], [`PropDef`], [`Classification`], [`Site`], [`Trigger`]: what the catalog holds.
//! - [`naming`]: the rules for event and property names.
//!
//! Testing:
//!
//! - [`testing`]: record the events a closure or future emitted, without a pipeline.
//!
//! # Cargo features
//!
//! - `posthog` (default): delivery to PostHog through `posthog-rs`, the outage spool, the
//!   remote kill switch and `--telemetry-catalog=push`. Only the binary that installs the
//!   pipeline needs it; a library that only annotates its handlers depends on this crate with
//!   `default-features = false` and pulls in no HTTP client.
//! - `http` (default): [`Outcome`] for `http::Response`, so `on = "success"` works on handlers
//!   returning responses (axum and friends).
//!
//! Without `posthog`, a configured PostHog key is reported once as a warning and events go to
//! the local JSONL log instead.
//!
//! # Linking caveat
//!
//! The catalog is built by `inventory` from what the final binary links. A library crate whose
//! items the binary never names is not linked, and its events are missing from the catalog
//! (they would never be sent either). If your handlers live in a crate that `main` does not
//! otherwise reference, name it once:
//!
//! ```
//! # mod my_handlers {} // stands for the library crate whose handlers are missing
//! use my_handlers as _; // links my_handlers, so its events are in the catalog
//! ```

#![warn(missing_docs)]

pub mod catalog;
pub mod sink;
pub mod testing;
pub use telemetry_naming as naming;

// The pipeline, file by file: `telemetry-macros` (the expansion) -> `definition` (what the
// catalog holds) -> `catalog` (collected with `inventory`) -> `capture` (the hot path) ->
// `pipeline` (bounded queue and worker) -> `wire` (the event as sent) -> `sink`, and the
// `spool` that keeps what PostHog did not take until it does.
mod audit;
mod capture;
mod config;
mod consent_gate;
mod definition;
mod environment;
mod fingerprint;
mod lifecycle;
mod pipeline;
mod property;
#[cfg(feature = "posthog")]
mod remote;
mod spool;
mod state;
mod switch;
mod telemetry;
mod warn;
mod wire;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use capture::Outcome;
pub use catalog::{Catalog, catalog};
pub use config::{EnvConfig, Reason, Switch};
pub use definition::{Classification, EventDef, PropDef, Site, Trigger};
pub use pipeline::{Stats, stats};
pub use property::{
    HashInput, HashSource, Hashed, PropValue, PropertyValue, StaticText, ValueKind,
};
#[cfg(feature = "posthog")]
pub use remote::{DecisionSource, RemoteStatus};
pub use spool::SpoolLimits;
pub use telemetry::{DEFAULT_JSONL_PATH, IdentitySource, Status, Telemetry, TelemetryBuilder};
pub use telemetry_macros::{PropertyValue, track, track_event};
