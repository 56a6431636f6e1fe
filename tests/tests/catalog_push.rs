//! `--telemetry-catalog=push` and `push-dry-run`, end to end: the `catalog_cli` binary pushes
//! its catalog to a loopback server that speaks PostHog's definition API
//! (`telemetry_tests::posthog_api_server`, written from PostHog's source).

use std::process::{Command, Output};

use serde_json::Value;
use telemetry_tests::posthog_api_server::PostHogApiServer;

const KEY: &str = "phx_test_personal_key_0123456789";
const PROJECT: &str = "4242";
const TAG: &str = "telemetry-catalog";

fn push(server: &PostHogApiServer, key: &str, mode: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_catalog_cli"))
        .arg(format!("--telemetry-catalog={mode}"))
        .env("POSTHOG_CLI_TOKEN", key)
        .env("POSTHOG_CLI_ENV_ID", PROJECT)
        .env("POSTHOG_CLI_HOST", server.url())
        .output()
        .expect("the catalog_cli binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The binary's own catalog document: what the push is expected to write.
fn catalog() -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_catalog_cli"))
        .arg("--telemetry-catalog=json")
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `(name, description)` of every event, the lifecycle events included.
fn catalog_events(doc: &Value) -> Vec<(String, String)> {
    let mut events = Vec::new();
    for list in ["events", "lifecycle_events"] {
        for event in doc[list].as_array().unwrap() {
            events.push((
                event["name"].as_str().unwrap().to_owned(),
                event["description"].as_str().unwrap().to_owned(),
            ));
        }
    }
    events
}

#[test]
fn first_push_creates_and_updates_a_second_push_writes_nothing() {
    // Two definitions a page, so every list takes several pages and `next` must be followed.
    let server = PostHogApiServer::start(PROJECT, KEY).page_size(2);
    server.ingest_event("telemetry.install");
    server.ingest_event("someone.elses");
    server.ingest_property("verbose", Some("String"));
    server.ingest_property("platform", Some("String"));

    let output = push(&server, KEY, "push");
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );

    let events = catalog_events(&catalog());
    assert!(events.len() > 2, "{events:?}");
    for (name, description) in &events {
        let def = server
            .event(name)
            .unwrap_or_else(|| panic!("{name} not in PostHog"));
        assert_eq!(&def.description, description, "{name}");
        assert!(def.tags.iter().any(|t| t == TAG), "{name}: {:?}", def.tags);
    }
    assert_eq!(
        server.event("someone.elses").unwrap().tags,
        Vec::<String>::new()
    );
    let install = server.event("telemetry.install").unwrap();
    assert!(
        install.last_seen_at.is_some(),
        "updated in place, not re-created"
    );

    let verbose = server.property("verbose").unwrap();
    assert_eq!(verbose.property_type.as_deref(), Some("Boolean"));
    assert!(
        verbose.description.contains("cli.invoked"),
        "{}",
        verbose.description
    );
    let platform = server.property("platform").unwrap();
    assert!(!platform.description.is_empty());
    // Never ingested: PostHog has no definition, and the push does not try to make one.
    assert!(server.property("ci").is_none());
    assert!(stdout.contains("not seen yet  property  ci"), "{stdout}");
    assert!(
        stdout.contains("created       event     cli.invoked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("updated       event     telemetry.install"),
        "{stdout}"
    );

    let writes = server.writes();
    let posts: Vec<_> = writes.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(
        posts.len(),
        events.len() - 1,
        "one create per event PostHog lacked"
    );
    assert!(posts.iter().all(|r| r.path.contains("/event_definitions/")));
    assert!(writes.iter().all(|r| r.status < 300), "{writes:?}");

    // Again, with nothing new: reads only.
    let before = server.writes().len();
    let again = push(&server, KEY, "push");
    let stdout = text(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{stdout}");
    assert_eq!(server.writes().len(), before, "{stdout}");
    assert!(stdout.contains("Pushed: 0 created, 0 updated"), "{stdout}");
    // PostHog now has every catalog event, more than one page: all of them were read (a missed
    // page would have meant a create of an existing name, which PostHog refuses).
    let pages: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/event_definitions/"))
        .map(|r| r.path)
        .collect();
    assert!(pages.iter().any(|p| p.contains("offset=2")), "{pages:?}");
}

#[test]
fn a_dry_run_prints_the_plan_and_writes_nothing() {
    let server = PostHogApiServer::start(PROJECT, KEY);
    server.ingest_property("verbose", None);
    let output = push(&server, KEY, "push-dry-run");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("would create  event     cli.invoked  [description, tags]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("would update  property  verbose  [description, property_type] = Boolean"),
        "{stdout}"
    );
    assert!(stdout.contains("Nothing was written."), "{stdout}");
    assert!(server.writes().is_empty(), "{:?}", server.writes());
    assert!(server.event("cli.invoked").is_none());
}

#[test]
fn a_bad_key_fails_clearly_without_printing_it() {
    let server = PostHogApiServer::start(PROJECT, KEY).read_only_key("phx_read_only_key_42");
    let wrong = "phx_wrong_key_that_must_not_leak";
    let output = push(&server, wrong, "push");
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("HTTP 401 authentication_failed"), "{all}");
    assert!(all.contains("POSTHOG_CLI_TOKEN"), "{all}");
    assert!(!all.contains(wrong), "{all}");
    assert!(server.writes().is_empty());

    let output = push(&server, "phx_read_only_key_42", "push");
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{all}");
    assert!(all.contains("HTTP 403 permission_denied"), "{all}");
    assert!(all.contains("event_definition:write"), "{all}");
    assert!(!all.contains("phx_read_only_key_42"), "{all}");

    // The key went only to the configured host, as a bearer token.
    for request in server.requests() {
        let auth = request.headers.iter().find(|(k, _)| k == "authorization");
        assert!(
            auth.is_some_and(|(_, v)| v.starts_with("Bearer phx_")),
            "{request:?}"
        );
    }

    let output = Command::new(env!("CARGO_BIN_EXE_catalog_cli"))
        .arg("--telemetry-catalog=push")
        .env_remove("POSTHOG_CLI_TOKEN")
        .env("POSTHOG_CLI_ENV_ID", PROJECT)
        .env("POSTHOG_CLI_HOST", server.url())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("POSTHOG_CLI_TOKEN is not set"));

    let output = Command::new(env!("CARGO_BIN_EXE_catalog_cli"))
        .arg("--telemetry-catalog=push")
        .env("POSTHOG_CLI_TOKEN", KEY)
        .env("POSTHOG_CLI_ENV_ID", "999")
        .env("POSTHOG_CLI_HOST", server.url())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 404") && stderr.contains("POSTHOG_CLI_ENV_ID"),
        "{stderr}"
    );
}

#[test]
fn without_the_enterprise_package_it_writes_what_is_accepted_and_says_what_is_not() {
    let server = PostHogApiServer::start(PROJECT, KEY)
        .open_source()
        .page_size(3);
    server.ingest_property("verbose", Some("String"));
    server.ingest_property("platform", Some("String"));

    let output = push(&server, KEY, "push");
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&output.stderr)
    );

    // No event was listed, so the first create found out by the deployment's 400 on
    // `description`; every other create went without it.
    let refused: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.status >= 400)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].status, 400);
    for (name, _) in catalog_events(&catalog()) {
        let def = server
            .event(&name)
            .unwrap_or_else(|| panic!("{name} not created"));
        assert_eq!(def.description, "");
    }
    assert_eq!(
        server.property("verbose").unwrap().property_type.as_deref(),
        Some("Boolean")
    );
    assert!(
        stdout.contains("Not accepted by this deployment (description, tags) for cli.invoked"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Not accepted by this deployment (description) for platform, verbose"),
        "{stdout}"
    );

    let before = server.writes().len();
    let again = push(&server, KEY, "push");
    let stdout = text(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{stdout}");
    assert_eq!(server.writes().len(), before, "{stdout}");
    assert!(server.requests().iter().filter(|r| r.status >= 400).count() == 1);
    assert!(
        stdout.contains("Not accepted by this deployment"),
        "{stdout}"
    );
}

#[test]
fn the_stand_in_refuses_to_create_property_definitions_like_posthog() {
    use std::io::{Read, Write};
    let server = PostHogApiServer::start(PROJECT, KEY);
    let addr = server.url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let body = r#"{"name":"verbose"}"#;
    write!(
        stream,
        "POST /api/projects/{PROJECT}/property_definitions/ HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).unwrap();
    answer.push_str(&String::from_utf8_lossy(&buf[..n]));
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        answer.contains(r#""code":"method_not_allowed""#),
        "{answer}"
    );
    assert!(server.property("verbose").is_none());
}
