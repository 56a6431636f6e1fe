//! The Markdown transparency document: what an end user reads.

use std::collections::HashMap;

use telemetry_core::__private::internals::wire::AUTOMATIC_PROPERTIES;
use telemetry_core::catalog::Format;
use telemetry_core::{EventDef, PropDef, Site, Trigger, ValueKind};

const fn site(function: &'static str, line: u32) -> Site {
    Site {
        module_path: module_path!(),
        function,
        file: file!(),
        line,
    }
}

static PROJECT_CREATED: EventDef = EventDef {
    name: "project.created",
    description: "A project was created.",
    trigger: Trigger::Success,
    props: &[
        PropDef::new("project_id", "u64", ValueKind::Integer, &[]),
        PropDef::new("billable", "bool", ValueKind::Boolean, &[]),
    ],
    has_distinct_id: false,
    site: site("create_project", 10),
};

static PROJECT_ARCHIVED: EventDef = EventDef {
    name: "project.archived",
    description: "A project was archived: it no longer shows in the project list.",
    trigger: Trigger::Call,
    props: &[],
    has_distinct_id: true,
    site: site("archive_project", 20),
};

static TASK_STATUS_CHANGED: EventDef = EventDef {
    name: "task.status_changed",
    description: "The status of a task was changed on the board.",
    trigger: Trigger::Failure,
    props: &[
        PropDef::new(
            "status",
            "Status",
            ValueKind::Enum,
            &["todo", "doing", "done"],
        ),
        PropDef::new("assignee", "Hashed", ValueKind::Hashed, &[]),
    ],
    has_distinct_id: false,
    site: site("set_status", 30),
};

static TIMER_STOPPED: EventDef = EventDef {
    name: "timer.stopped",
    description: "A running timer was stopped | and saved.",
    trigger: Trigger::Return,
    props: &[
        PropDef::new("duration", "Duration", ValueKind::Duration, &[]),
        PropDef::new("ratio", "f64", ValueKind::Float, &[]),
        PropDef::new("note", "&'static str", ValueKind::Enum, &[]),
        PropDef::new("paused_seconds", "Option<u64>", ValueKind::Integer, &[]),
    ],
    has_distinct_id: false,
    site: site("stop_timer", 40),
};

telemetry_core::__private::submit!(telemetry_core::__private::Registration(&PROJECT_CREATED));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(&PROJECT_ARCHIVED));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(
    &TASK_STATUS_CHANGED
));
telemetry_core::__private::submit!(telemetry_core::__private::Registration(&TIMER_STOPPED));

fn markdown() -> String {
    telemetry_core::catalog()
        .with_app("Timetracker", "2.0.1")
        .to_markdown()
}

/// The text between a `## heading` line and the next `## ` heading.
fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let start = md
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading:?} in\n{md}"));
    let rest = &md[start + heading.len() + 2..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn the_introduction_says_what_is_collected_what_never_is_and_how_to_opt_out() {
    let md = markdown();
    assert!(md.starts_with("# Telemetry in Timetracker\n\n"));
    assert!(md.contains("**Timetracker** (version 2.0.1)"));
    let short = section(&md, "## In short");
    assert!(short.contains("opt-in"));
    assert!(short.contains("**What is collected:**"));
    let never = short
        .lines()
        .find(|l| l.contains("**What is never collected:**"))
        .unwrap();
    for word in [
        "names",
        "e-mail addresses",
        "free text",
        "IP addresses",
        "user ids",
    ] {
        assert!(never.contains(word), "{word}: {never}");
    }
    let fingerprint = section(&md, "## The anonymous fingerprint");
    assert!(fingerprint.contains("salt"));
    assert!(fingerprint.contains("SHA-256"));
    assert!(fingerprint.contains("$geoip_disable"));
    let opt_out = section(&md, "## How to opt out");
    assert!(opt_out.contains("| `ENABLE_TELEMETRY=false` |"));
    assert!(opt_out.contains("| `DO_NOT_TRACK=1` |"));
    assert!(opt_out.contains("`TELEMETRY_DEBUG=1`"));
}

#[test]
fn the_table_of_contents_is_grouped_by_resource() {
    let md = markdown();
    let contents = section(&md, "## Contents");
    assert_eq!(
        contents.trim(),
        "- [`project` events](#project-events)\n\
         \x20 - [`project.archived`](#projectarchived)\n\
         \x20 - [`project.created`](#projectcreated)\n\
         - [`task` events](#task-events)\n\
         \x20 - [`task.status_changed`](#taskstatus_changed)\n\
         - [`timer` events](#timer-events)\n\
         \x20 - [`timer.stopped`](#timerstopped)\n\
         - [Lifecycle events](#lifecycle-events)\n\
         \x20 - [`telemetry.health`](#telemetryhealth)\n\
         \x20 - [`telemetry.install`](#telemetryinstall)\n\
         \x20 - [`telemetry.update`](#telemetryupdate)\n\
         - [Properties on every event](#properties-on-every-event)\n\
         - [Kinds of data](#kinds-of-data)"
    );
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_link_points_at_a_heading() {
    let md = markdown();
    let mut anchors: HashMap<String, usize> = HashMap::new();
    for line in md.lines().filter(|l| l.starts_with('#')) {
        let text = line.trim_start_matches('#');
        *anchors.entry(slug(text)).or_default() += 1;
    }
    assert!(anchors.values().all(|&n| n == 1), "{anchors:?}");
    let mut links = 0;
    for (i, _) in md.match_indices("](#") {
        let target: String = md[i + 3..].chars().take_while(|&c| c != ')').collect();
        assert!(anchors.contains_key(&target), "dangling link #{target}");
        links += 1;
    }
    assert!(links >= 12);
}

#[test]
fn each_event_says_what_it_means_when_it_fires_and_what_it_carries() {
    let md = markdown();
    let project = section(&md, "## `project` events");
    assert!(project.contains(
        "### `project.archived`\n\n\
         A project was archived: it no longer shows in the project list.\n\n\
         - **Sent:** when the action starts.\n\
         - **Linked to:** the user (or other record) it is about, by a salted SHA-256 hash of its \
         id; the id itself is never sent.\n\n\
         No properties besides the ones on every event.\n"
    ));
    assert!(project.contains(
        "### `project.created`\n\n\
         A project was created.\n\n\
         - **Sent:** when the action succeeds.\n\
         - **Linked to:** the anonymous fingerprint of this installation.\n\n\
         | Property | Type | Kind of data |\n\
         | --- | --- | --- |\n\
         | `project_id` | whole number | record identifier |\n\
         | `billable` | yes/no | yes/no flag |\n"
    ));
    let task = section(&md, "## `task` events");
    assert!(task.contains("- **Sent:** when the action fails."));
    assert!(task.contains("| `status` | one of `todo`, `doing`, `done` | category |"));
    assert!(task.contains(
        "| `assignee` | salted SHA-256 hash (the value itself is never sent) | pseudonymous \
         identifier |"
    ));
    let timer = section(&md, "## `timer` events");
    assert!(timer.contains("A running timer was stopped | and saved."));
    assert!(timer.contains("- **Sent:** when the action finishes, whatever its outcome."));
    assert!(timer.contains("| `duration` | duration in seconds | duration |"));
    assert!(timer.contains("| `ratio` | number | count or amount |"));
    assert!(timer.contains("| `note` | text fixed in the source code | category |"));
    assert!(timer.contains("| `paused_seconds` | whole number; may be null | duration |"));
}

#[test]
fn lifecycle_events_and_automatic_properties_have_their_sections() {
    let md = markdown();
    let lifecycle = section(&md, "## Lifecycle events");
    assert!(lifecycle.contains("Each of them carries these properties:"));
    assert!(
        lifecycle
            .contains("| Property | Type | Kind of data | Meaning | Where the value comes from |")
    );
    // Free text the toolkit sets is "text", as the JSON kind says; the sources name every
    // variable that is read.
    assert!(lifecycle.contains("| `rust_version` | text | technical |"));
    let ci = lifecycle
        .lines()
        .find(|l| l.starts_with("| `ci` |"))
        .unwrap();
    for var in ["`CI`", "`GITHUB_ACTIONS`", "`BUILDKITE`", "`TF_BUILD`"] {
        assert!(ci.contains(var), "{ci}");
    }
    for name in ["rust_version", "ci"] {
        assert_eq!(
            lifecycle.matches(&format!("| `{name}` |")).count(),
            1,
            "{name} is listed once, as a common property"
        );
    }
    // The install's context is on every event: listed with the automatic properties.
    for name in ["platform", "arch", "environment", "deployment_method"] {
        assert!(!lifecycle.contains(&format!("| `{name}` |")), "{name}");
    }
    for name in ["telemetry.health", "telemetry.install", "telemetry.update"] {
        assert!(lifecycle.contains(&format!("### `{name}`\n")));
    }
    let update = &lifecycle[lifecycle.find("### `telemetry.update`").unwrap()..];
    assert!(update.contains("Also carries:"));
    assert!(update.contains("| `old_version` |"));
    assert!(update.contains("| `new_version` |"));

    let automatic = section(&md, "## Properties on every event");
    assert!(automatic.contains("| Property | Meaning | Where the value comes from |"));
    for (name, _) in AUTOMATIC_PROPERTIES {
        let row = automatic
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("{name}"));
        // Three cells, none empty: the source of every automatic property is known.
        assert!(!row.contains("|  |"), "{row}");
    }
    assert!(automatic.contains("`APP_VERSION`"));
    let environment = automatic
        .lines()
        .find(|l| l.starts_with("| `environment` |"))
        .unwrap();
    for var in ["`APP_ENV`", "`RUST_ENV`", "`ENVIRONMENT`"] {
        assert!(environment.contains(var), "{environment}");
    }
    let kinds = section(&md, "## Kinds of data");
    assert!(kinds.contains("| pseudonymous identifier |"));
}

#[test]
fn the_document_is_deterministic_and_tidy() {
    let md = markdown();
    assert_eq!(md, markdown());
    assert!(md.ends_with("|\n"));
    assert!(!md.contains("\n\n\n"));
    assert!(!md.lines().any(|l| l.ends_with(' ')));
    assert!(md.lines().filter(|l| l.starts_with("# ")).count() == 1);
}

#[test]
fn the_committed_golden_document_is_current() {
    telemetry_core::catalog()
        .with_app("Timetracker", "2.0.1")
        .assert_document_current("tests/catalog_golden/catalog.md", Format::Markdown);
}
