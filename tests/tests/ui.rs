//! Compile-time behaviour of the macros: what compiles, and the exact errors of what does not.
//!
//! The `.stderr` files are reviewed by hand: each error must point at the offending token and
//! say how to fix it. Regenerate with `TRYBUILD=overwrite cargo test -p telemetry-tests --test ui`
//! and read the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui/pass/*.rs");
    cases.compile_fail("ui/fail/*.rs");
}
