//! HTTP-level tests of the whole app, driven in-process through the router.

#[path = "../support/mod.rs"]
mod support;

mod access;
mod dashboard;
mod documents;
mod events;
mod events_admin;
mod hardening;
mod observability;
mod spool;
