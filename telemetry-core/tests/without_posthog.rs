//! telemetry-core built without its `posthog` feature (a library's `default-features = false`,
//! or a binary that turned it off): a configured PostHog key cannot be used, so the install
//! warns once and keeps events in the local JSONL log instead of failing or losing them.
//!
//! Runs only in that build: `cargo test -p telemetry-core --no-default-features --test without_posthog`
//! (`.ci/run` does).
#![cfg(not(feature = "posthog"))]

use telemetry_core::Telemetry;

mod common {
    pub mod warnings;
}
use common::warnings::Warnings;

#[test]
fn a_posthog_key_without_the_feature_warns_once_and_keeps_events_in_the_jsonl_log() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("events.jsonl");
    let warnings = Warnings::default();
    let telemetry = warnings.capture(|| {
        Telemetry::builder()
            .app("without-posthog", "1.0.0")
            .enabled_by_default(true)
            .posthog("phc_configured_but_unusable", None)
            .state_dir(dir.path().join("state"))
            .jsonl_path(&jsonl)
            .install()
    });

    let messages = warnings.messages();
    let about_posthog: Vec<_> = messages
        .iter()
        .filter(|m| m.contains("PostHog project key"))
        .collect();
    assert_eq!(about_posthog.len(), 1, "{messages:?}");
    assert!(
        about_posthog[0].contains("without its `posthog` feature")
            && about_posthog[0].contains(&jsonl.display().to_string()),
        "{}",
        about_posthog[0]
    );

    // The safe default: on, delivering to the JSONL log, and events arrive there.
    let status = telemetry.status();
    assert!(status.enabled, "{status:?}");
    assert_eq!(status.sink, "jsonl");
    assert_eq!(status.sink_target, Some(jsonl.display().to_string()));
    telemetry_core::track!(
        "build.checked",
        description = "An event captured by a build without the posthog feature."
    );
    assert!(telemetry.flush());
    let log = std::fs::read_to_string(&jsonl).unwrap();
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "build.checked"),
        "{log}"
    );
    telemetry.shutdown();
}

/// `--telemetry-catalog=push` is documented, so without the feature it is not "unknown": the
/// error names the missing feature.
#[test]
fn catalog_push_names_the_missing_feature() {
    for given in ["push", "push-dry-run"] {
        let error = telemetry_core::catalog::parse_args([format!("--telemetry-catalog={given}")])
            .expect_err("push is not a document format");
        let message = error.to_string();
        assert!(message.contains("`posthog` cargo feature"), "{message}");
        assert!(message.contains("md (or markdown), json"), "{message}");
    }
}
