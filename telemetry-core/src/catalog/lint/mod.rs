//! Lints on the catalog: mistakes that would make the transparency document wrong or useless.
//!
//! `report.rs` holds what a run returns ([`Lint`], [`Severity`], [`Finding`]); `rules.rs` the
//! checks on declarations, names and properties; `description.rs` the checks on descriptions.

mod description;
mod report;
mod rules;
#[cfg(test)]
mod tests;

pub use report::{Finding, Lint, Severity};
pub(crate) use rules::lint;
