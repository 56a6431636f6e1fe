//! The name rules live once, in the `telemetry-naming` crate (`telemetry_core::naming`), used by
//! the macros at compile time and by the catalog's `invalid-name` lint at run time. Property
//! tests check them against the contract's grammar, written out independently here, on every
//! generated name: well-formed ones, near misses and arbitrary text. The rules' own unit tests
//! live in the naming crate.

use proptest::prelude::*;
use telemetry_core::catalog::{Catalog, Lint};
use telemetry_core::naming as core_naming;
use telemetry_core::{EventDef, Site, Trigger};

/// The contract: `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`, at most 64 characters, not `$...`
/// (implied by the grammar) and not `telemetry.` (reserved).
fn contract_accepts_event(name: &str) -> bool {
    let grammar = name.len() <= 64
        && name.split('.').count() >= 2
        && name.split('.').all(|seg| {
            let b = seg.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase()
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        });
    grammar && !name.starts_with("telemetry.")
}

/// Whether the catalog flags a user event with this name as invalid.
fn catalog_rejects(name: &str) -> bool {
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let def: &'static EventDef = Box::leak(Box::new(EventDef {
        name,
        description: "A generated event used to compare the name rules.",
        trigger: Trigger::Return,
        props: &[],
        has_distinct_id: false,
        site: Site {
            module_path: "naming_agreement",
            function: "generated",
            file: file!(),
            line: line!(),
        },
    }));
    Catalog::from_defs([def])
        .lint()
        .iter()
        .any(|f| f.lint == Lint::InvalidName)
}

fn same_event_verdict(name: &str) -> Result<(), TestCaseError> {
    let verdict = core_naming::check_event_name(name);
    prop_assert_eq!(
        verdict.is_ok(),
        contract_accepts_event(name),
        "contract: {:?}",
        verdict
    );
    prop_assert_eq!(verdict.is_ok(), !catalog_rejects(name), "catalog lint");
    Ok(())
}

/// The contract: property names are snake_case, `^[a-z][a-z0-9_]*$`.
fn contract_snake_case(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn property_verdict_follows_the_contract(name: &str) -> Result<(), TestCaseError> {
    let verdict = core_naming::check_property_name(name);
    if !contract_snake_case(name) {
        prop_assert!(verdict.is_err(), "{name:?} is not snake_case");
    }
    if let Err(error) = &verdict {
        prop_assert!(!error.hint.is_empty());
        let quoted = format!("`{name}`");
        prop_assert!(error.message.contains(&quoted) || name.is_empty());
    }
    Ok(())
}

/// Names built to sit on and around every rule's edge.
fn event_names() -> impl Strategy<Value = String> {
    prop_oneof![
        // Well formed.
        "[a-z][a-z0-9_]{0,12}(\\.[a-z][a-z0-9_]{0,12}){1,4}",
        // Around the 64-character limit.
        "[a-z]{20,40}\\.[a-z_]{15,30}",
        // Reserved prefixes.
        "telemetry\\.[a-z_]{1,12}",
        "telemetry[a-z_]{0,3}\\.[a-z]{1,5}",
        "\\$[a-z_.]{0,12}",
        // Near misses: one wrong character class somewhere.
        "[a-zA-Z0-9_.$ -]{0,20}",
        "[a-z][a-z0-9_]{0,8}[.]{1,2}[A-Z0-9_][a-z0-9_.]{0,8}",
        // Anything at all, including non-ASCII.
        "\\PC{0,80}",
        any::<String>(),
    ]
}

fn property_names() -> impl Strategy<Value = String> {
    let personal: Vec<&'static str> = core_naming::personal_data::EXACT
        .iter()
        .chain(core_naming::personal_data::CONTAINS)
        .copied()
        .collect();
    prop_oneof![
        "[a-z][a-z0-9_]{0,20}",
        "[a-zA-Z0-9_ -]{0,20}",
        // Personal-data words with prefixes and suffixes (and the flag prefixes).
        (
            prop::sample::select(personal),
            prop::sample::select(vec!["", "has_", "is_", "user_", "x"]),
            prop::sample::select(vec![
                "", "_name", "_title", "_email", "_address", "_id", "s"
            ]),
        )
            .prop_map(|(word, pre, post)| format!("{pre}{word}{post}")),
        "\\PC{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn event_names_agree(name in event_names()) {
        same_event_verdict(&name)?;
    }

    #[test]
    fn property_names_agree(name in property_names()) {
        property_verdict_follows_the_contract(&name)?;
    }
}

#[test]
fn edge_cases_agree() {
    let edges = [
        "",
        ".",
        "a.b",
        "a.",
        ".a",
        "a..b",
        "telemetry.install",
        "telemetry_x.y",
        "$pageview",
        "A.b",
        "a.B",
        "a.1",
        "a._b",
        "é.a",
        "a.b\n",
    ];
    for name in edges {
        same_event_verdict(name).unwrap();
    }
    let longest = format!("a.{}", "b".repeat(62));
    same_event_verdict(&longest).unwrap();
    same_event_verdict(&format!("{longest}b")).unwrap();
    for name in [
        "",
        "a",
        "_a",
        "a-b",
        "email",
        "has_email",
        "user_email",
        "projectId",
    ] {
        property_verdict_follows_the_contract(name).unwrap();
    }
}
