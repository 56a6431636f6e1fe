//! Shared helpers for the workspace tests: a loopback PostHog capture server and child-process
//! helpers for the example binaries.

pub mod capture_server;
pub mod child;
pub mod counting_server;
pub mod flags_server;
pub mod posthog_api_server;
