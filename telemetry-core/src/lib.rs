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
//! # The pipeline, file by file
//!
//! `telemetry-macros` (the `#[track_event]` / `track!` expansion) → [`definition`] (what the
//! catalog holds) → [`catalog()`] (collected with `inventory`) → [`capture`] (the hot path) →
//! [`pipeline`] (bounded queue and worker) → [`wire`] (the event as sent) → [`sink`]
//! (PostHog, JSONL file, stderr, memory), and the [`spool`] that keeps what PostHog did not take
//! until it does.
//!
//! # Linking caveat
//!
//! The catalog is built by `inventory` from what the final binary links. A library crate whose
//! items the binary never names is not linked, and its events are missing from the catalog
//! (they would never be sent either). If your handlers live in a crate that `main` does not
//! otherwise reference, name it once:
//!
//! ```ignore
//! use my_handlers as _; // links my_handlers, so its events are in the catalog
//! ```

#![warn(missing_docs)]

pub mod capture;
pub mod catalog;
#[cfg(feature = "posthog")]
pub mod catalog_push;
pub mod config;
pub mod definition;
pub mod environment;
pub mod fingerprint;
pub mod lifecycle;
pub use telemetry_naming as naming;
pub mod pipeline;
pub mod property;
#[cfg(feature = "posthog")]
pub mod remote;
pub mod sink;
pub mod spool;
pub mod state;
pub mod testing;
pub mod wire;

mod audit;
mod switch;
mod telemetry;
mod warn;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use capture::Outcome;
pub use catalog::{Catalog, catalog};
pub use definition::{Classification, EventDef, PropDef, Site, Trigger};
pub use pipeline::Stats;
pub use property::{HashInput, HashSource, Hashed, PropValue, PropertyValue, ValueKind};
pub use telemetry::{DEFAULT_JSONL_PATH, IdentitySource, Status, Telemetry, TelemetryBuilder};
pub use telemetry_macros::{PropertyValue, track, track_event};
