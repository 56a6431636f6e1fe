//! `--telemetry-catalog=md|json` and `--telemetry-catalog-diff=OLD.json`, end to end: a real
//! binary prints its document or its privacy changelog and exits before the application runs;
//! the document the plain one-liner serves is the one the document check accepts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

fn command(plain: bool) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_catalog_cli"));
    command
        .env_remove("CATALOG_CLI_PLAIN")
        .env_remove("CATALOG_CLI_CHECK")
        .env_remove("TELEMETRY_CATALOG_BLESS");
    if plain {
        command.env("CATALOG_CLI_PLAIN", "1");
    }
    command
}

fn run(args: &[&str], plain: bool) -> Output {
    command(plain)
        .args(args)
        .output()
        .expect("the catalog_cli binary runs")
}

/// An empty directory of its own for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("catalog_cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[test]
fn json_is_printed_and_the_process_exits_zero_before_the_app_runs() {
    for args in [
        &["--telemetry-catalog=json"][..],
        &["--telemetry-catalog", "json"][..],
    ] {
        let output = run(args, false);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(!text.contains("the application ran"));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["schema"], "telemetry-catalog/v1");
        assert_eq!(doc["app"]["name"], "catalog-cli");
        assert_eq!(doc["app"]["version"], "9.9.9");
        assert_eq!(doc["events"][0]["properties"][0]["nullable"], false);
        assert_eq!(doc["events"][0]["name"], "cli.invoked");
        assert_eq!(
            doc["events"][0]["sites"][0]["file"],
            "src/bin/catalog_cli.rs"
        );
        assert_eq!(doc["lifecycle_events"].as_array().unwrap().len(), 3);
    }
}

#[test]
fn markdown_is_the_default() {
    for args in [
        &["--telemetry-catalog"][..],
        &["--telemetry-catalog=md"][..],
        &["--telemetry-catalog", "markdown"][..],
        &["--port", "8080", "--telemetry-catalog", "--verbose"][..],
    ] {
        let output = run(args, false);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let text = stdout(&output);
        assert!(
            text.starts_with("# Telemetry in catalog-cli\n"),
            "{args:?}: {text}"
        );
        assert!(text.contains("### `cli.invoked`"));
        assert!(text.contains("`DO_NOT_TRACK=1`"));
        assert!(!text.contains("the application ran"));
    }
}

#[test]
fn an_unknown_format_exits_two_listing_the_valid_ones() {
    let output = run(&["--telemetry-catalog=yaml"], false);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(message.contains("\"yaml\""), "{message}");
    assert!(
        message.contains("valid formats: md (or markdown), json"),
        "{message}"
    );
}

#[test]
fn without_the_flag_the_application_runs() {
    let output = run(&["--port", "8080"], false);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "the application ran\n");
}

#[test]
fn plain_exit_if_requested_names_the_executable_without_a_version() {
    let output = run(&["--telemetry-catalog=json"], true);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(doc["app"]["name"], "catalog_cli");
    assert_eq!(doc["app"]["version"], serde_json::Value::Null);
    let md = stdout(&run(&["--telemetry-catalog=md"], true));
    assert!(
        md.contains("usage events that **catalog_cli** can send"),
        "{md}"
    );
    assert!(!md.contains("(version"), "{md}");
}

/// Runs the check `assert_document_current(path, ..)` does, in the binary (whose catalog it is),
/// as `cargo test` of a package `name` at `version` would run it.
fn check(path: &Path, name: &str, version: &str) -> Output {
    command(false)
        .env("CATALOG_CLI_CHECK", path)
        .env("CARGO_PKG_NAME", name)
        .env("CARGO_PKG_VERSION", version)
        .output()
        .unwrap()
}

#[test]
fn the_served_document_is_the_one_the_document_check_accepts_across_version_bumps() {
    let dir = scratch("served-is-accepted");
    for (format, file) in [("md", "TRACKED_EVENTS.md"), ("json", "TRACKED_EVENTS.json")] {
        let served = run(&[&format!("--telemetry-catalog={format}")], true);
        assert_eq!(served.status.code(), Some(0), "{}", stderr(&served));
        let path = dir.join(file);
        std::fs::write(&path, &served.stdout).unwrap();
        for version in ["0.1.0", "2.0.0"] {
            let checked = check(&path, "catalog_cli", version);
            assert_eq!(
                checked.status.code(),
                Some(0),
                "{file} at {version}: {}",
                stderr(&checked)
            );
        }
        // The check does compare: another package name fails (how a stale document fails is
        // tested in telemetry-core).
        let other = check(&path, "another-app", "0.1.0");
        assert_eq!(other.status.code(), Some(1), "{file}");
        assert!(stderr(&other).contains("out of date"), "{}", stderr(&other));
    }
}

/// The flow of `examples/ci/telemetry-catalog.yml`: the committed JSON of the base branch is
/// compared with the catalog of the freshly built binary.
#[test]
fn the_diff_flag_prints_the_changelog_of_a_committed_document() {
    let dir = scratch("diff");
    let committed = dir.join("TRACKED_EVENTS.json");

    let current = run(&["--telemetry-catalog=json"], true);
    std::fs::write(&committed, &current.stdout).unwrap();
    let flag = format!("--telemetry-catalog-diff={}", committed.display());
    let same = run(&[&flag], true);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert_eq!(
        stdout(&same),
        "### Telemetry: what this change does to data collection\n\n\
         No change to data collection: the events and properties this application can send are \
         the same as in the committed document.\n"
    );

    // The base branch had no `cli.invoked` yet, and `verbose` was hashed in `app.started`.
    let mut old: serde_json::Value = serde_json::from_slice(&current.stdout).unwrap();
    let mut started = old["events"][0].clone();
    started["name"] = json!("app.started");
    started["properties"][0]["kind"] = json!("hashed");
    started["properties"][0]["hashed"] = json!(true);
    old["events"] = json!([started]);
    std::fs::write(&committed, old.to_string()).unwrap();
    for args in [
        vec![flag.as_str()],
        vec!["--telemetry-catalog-diff", committed.to_str().unwrap()],
    ] {
        let output = run(&args, false);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = stdout(&output);
        assert!(!text.contains("the application ran"));
        assert!(
            text.contains(
                "This change alters what the application can send: 1 event added, 1 event removed."
            ),
            "{text}"
        );
        assert!(
            text.contains("- `cli.invoked`: The command-line tool was started with a subcommand. Sent when the action starts;"),
            "{text}"
        );
        assert!(
            text.contains("  - `verbose`: yes/no, yes/no flag\n"),
            "{text}"
        );
        assert!(
            text.contains("- `app.started`: no longer sent (it carried `verbose`).\n"),
            "{text}"
        );
        assert!(!text.contains("telemetry.health"), "{text}");
    }
}

#[test]
fn the_diff_flag_fails_clearly_on_a_document_it_cannot_compare() {
    let dir = scratch("diff-errors");
    let missing = dir.join("nope.json");
    let output = run(
        &[&format!("--telemetry-catalog-diff={}", missing.display())],
        false,
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.contains("cannot read the committed telemetry catalog"),
        "{message}"
    );
    assert!(message.contains("nope.json"), "{message}");

    let markdown = dir.join("TRACKED_EVENTS.md");
    std::fs::write(&markdown, run(&["--telemetry-catalog=md"], false).stdout).unwrap();
    let output = run(
        &[&format!("--telemetry-catalog-diff={}", markdown.display())],
        false,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not JSON"), "{}", stderr(&output));

    let v2 = dir.join("v2.json");
    std::fs::write(&v2, r#"{"schema": "telemetry-catalog/v2", "events": []}"#).unwrap();
    let output = run(
        &[&format!("--telemetry-catalog-diff={}", v2.display())],
        false,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("\"telemetry-catalog/v2\", not \"telemetry-catalog/v1\""),
        "{}",
        stderr(&output)
    );

    let output = run(&["--telemetry-catalog-diff"], false);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--telemetry-catalog-diff=TRACKED_EVENTS.json"));
}
