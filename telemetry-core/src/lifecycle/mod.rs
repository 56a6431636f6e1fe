//! The toolkit's own lifecycle events: install, update and health pings.
//!
//! They are registered in the catalog like user events, under the reserved `telemetry.` prefix.

pub mod dedup;
pub mod events;
pub(crate) mod runner;
pub mod schedule;
