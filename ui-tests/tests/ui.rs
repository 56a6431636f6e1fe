//! Compile-time behaviour of the macros: what compiles, and the exact errors of what does not.
//!
//! The `.stderr` files are reviewed by hand: each error must point at the offending token and
//! say how to fix it. Regenerate with `TRYBUILD=overwrite cargo test -p telemetry-ui-tests`
//! and read the diff.
//!
//! The cases live in their own package so that trybuild, which builds every dependency of the
//! package again for its own project, builds only telemetry-core's library tree (no HTTP client,
//! no TLS) and what the cases use (axum's router, async-trait).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
