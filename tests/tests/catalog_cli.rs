//! `--telemetry-catalog=md|json`, end to end: a real binary prints its document and exits
//! before the application runs.

use std::process::{Command, Output};

fn run(args: &[&str], plain: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_catalog_cli"));
    command.args(args).env_remove("CATALOG_CLI_PLAIN");
    if plain {
        command.env("CATALOG_CLI_PLAIN", "1");
    }
    command.output().expect("the catalog_cli binary runs")
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
fn plain_exit_if_requested_names_the_executable_with_an_unspecified_version() {
    let output = run(&["--telemetry-catalog=json"], true);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(doc["app"]["name"], "catalog_cli");
    assert_eq!(doc["app"]["version"], "unspecified");
}
