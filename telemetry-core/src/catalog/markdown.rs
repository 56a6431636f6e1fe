//! The catalog as a Markdown transparency document for the people whose usage is measured.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{Catalog, CatalogEvent, facts};
use crate::definition::{Classification, PropDef};
use crate::wire::AUTOMATIC_PROPERTIES;

/// GitHub-style heading anchors, with `-1`, `-2`, ... for repeated headings.
#[derive(Default)]
struct Slugger {
    seen: HashMap<String, usize>,
}

impl Slugger {
    fn slug(&mut self, heading: &str) -> String {
        let base: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = base.clone();
        loop {
            let count = self.seen.entry(candidate.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                return candidate;
            }
            candidate = format!("{base}-{}", *count - 1);
        }
    }
}

/// Text for a table cell: one line, pipes escaped.
fn cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The value type as a reader understands it, with "may be null" for an optional value.
fn value_type(p: &PropDef) -> String {
    let words = facts::kind_words(facts::kind_name(p), p.variants);
    if facts::may_be_null(p) {
        format!("{words}; {}", facts::MAY_BE_NULL)
    } else {
        words
    }
}

pub(super) const CLASSIFICATIONS: [Classification; 7] = [
    Classification::Pseudonymous,
    Classification::Identifier,
    Classification::Flag,
    Classification::Measurement,
    Classification::Timing,
    Classification::Category,
    Classification::Technical,
];

pub(super) fn classification_label(c: Classification) -> &'static str {
    match c {
        Classification::Pseudonymous => "pseudonymous identifier",
        Classification::Identifier => "record identifier",
        Classification::Flag => "yes/no flag",
        Classification::Measurement => "count or amount",
        Classification::Timing => "duration",
        Classification::Category => "category",
        Classification::Technical => "technical",
    }
}

fn classification_meaning(c: Classification) -> &'static str {
    match c {
        Classification::Pseudonymous => {
            "An identifier sent only as a salted SHA-256 hash. The salt is secret to this \
             installation, so the hash cannot be turned back into the identifier or matched \
             with data from elsewhere."
        }
        Classification::Identifier => {
            "The number of a record (a project, a task, ...) in the application's own database. \
             It means nothing outside the application and says nothing about what the record \
             contains."
        }
        Classification::Flag => "A yes/no value, such as whether a setting is on.",
        Classification::Measurement => "A count or an amount, such as a number of items.",
        Classification::Timing => "How long something took or lasted.",
        Classification::Category => "One value from a fixed list written in the source code.",
        Classification::Technical => {
            "A fact about the application or the machine it runs on, not about you."
        }
    }
}

fn property_table(out: &mut String, props: &[&PropDef]) {
    let described = props.iter().any(|p| !p.description.trim().is_empty());
    let sourced = props.iter().any(|p| facts::property_source(p).is_some());
    out.push_str("| Property | Type | Kind of data |");
    if described {
        out.push_str(" Meaning |");
    }
    if sourced {
        out.push_str(" Where the value comes from |");
    }
    out.push_str("\n| --- | --- | --- |");
    let columns = usize::from(described) + usize::from(sourced);
    out.push_str(&" --- |".repeat(columns));
    out.push('\n');
    for p in props {
        let _ = write!(
            out,
            "| `{}` | {} | {} |",
            p.name,
            cell(&value_type(p)),
            classification_label(p.classification)
        );
        if described {
            let _ = write!(out, " {} |", cell(p.description));
        }
        if sourced {
            let _ = write!(
                out,
                " {} |",
                cell(&facts::property_source(p).unwrap_or_default())
            );
        }
        out.push('\n');
    }
}

/// Events with the anchors of their headings.
type Anchored<'a> = Vec<(&'a CatalogEvent, String)>;

struct Plan<'a> {
    /// Per resource: its name, its heading's anchor and its events.
    groups: Vec<(&'static str, String, Anchored<'a>)>,
    lifecycle: String,
    lifecycle_events: Anchored<'a>,
    automatic: String,
    kinds: String,
}

const LIFECYCLE_HEADING: &str = "Lifecycle events";
const AUTOMATIC_HEADING: &str = "Properties on every event";
const KINDS_HEADING: &str = "Kinds of data";

fn plan<'a>(catalog: &'a Catalog, title: &str) -> Plan<'a> {
    let mut slugger = Slugger::default();
    for heading in [
        title,
        "In short",
        "The anonymous fingerprint",
        "How to opt out",
        "Contents",
    ] {
        slugger.slug(heading);
    }
    let mut by_resource: BTreeMap<&'static str, Vec<&'a CatalogEvent>> = BTreeMap::new();
    for event in catalog.app_events() {
        by_resource.entry(event.resource()).or_default().push(event);
    }
    let groups = by_resource
        .into_iter()
        .map(|(resource, events)| {
            let group = slugger.slug(&format!("`{resource}` events"));
            let events = events
                .into_iter()
                .map(|e| (e, slugger.slug(&format!("`{}`", e.name))))
                .collect();
            (resource, group, events)
        })
        .collect();
    let lifecycle = slugger.slug(LIFECYCLE_HEADING);
    let lifecycle_events = catalog
        .lifecycle_events()
        .map(|e| (e, slugger.slug(&format!("`{}`", e.name))))
        .collect();
    let automatic = slugger.slug(AUTOMATIC_HEADING);
    let kinds = slugger.slug(KINDS_HEADING);
    Plan {
        groups,
        lifecycle,
        lifecycle_events,
        automatic,
        kinds,
    }
}

pub(crate) fn render(catalog: &Catalog) -> String {
    let app = catalog.app();
    let title = format!("Telemetry in {}", one_line(&app.name));
    let plan = plan(catalog, &title);
    let mut out = String::new();

    let version = app
        .version
        .as_deref()
        .map(|v| format!(" (version {})", one_line(v)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "# {title}\n\n\
         This is the complete list of the usage events that **{name}**{version} can send, and of \
         everything each event contains. It is generated from the application's source code: \
         an event that is not listed here cannot be sent.\n\n",
        name = one_line(&app.name),
    );

    let _ = write!(
        out,
        "## In short\n\n\
         - **Off unless it is turned on.** Telemetry is opt-in: nothing is sent unless it was \
         switched on, with `ENABLE_TELEMETRY=true` or by agreeing to it in the application.\n\
         - **What is collected:** which features are used (the events below), with counts, \
         durations, yes/no flags, values from fixed lists and record numbers that mean nothing \
         outside the application's database; the application's version; and, in the \
         [lifecycle events](#{lifecycle}), the operating system, the CPU architecture and how \
         the application is deployed.\n\
         - **What is never collected:** names, e-mail addresses, passwords, free text you type, \
         file contents, IP addresses, your location, or user ids as they are. Text is only ever \
         sent when it is one of a fixed set of values written in the source code.\n\
         - **Anonymous:** events are linked to a random fingerprint of this installation, not \
         to you.\n\n",
        lifecycle = plan.lifecycle,
    );

    out.push_str(
        "## The anonymous fingerprint\n\n\
         Each installation creates a random id and a random secret (a 32-byte salt) and keeps \
         them in a small state file on the machine it runs on. Events carry only a SHA-256 hash \
         of the two, which lets the developers count installations without learning who you \
         are. The salt is never sent, so the fingerprint cannot be linked to anything outside \
         this installation. Where an event is linked to a user account (see \"Linked to\" \
         below), the account's id is sent only as a hash salted the same way, never as it \
         is.\n\n\
         Every event also tells the analytics service (PostHog) not to create a profile of a \
         person for it (`$process_person_profile: false`) and not to look up a location from \
         the IP address of the connection (`$geoip_disable: true`). No event contains an IP \
         address.\n\n",
    );

    out.push_str(
        "## How to opt out\n\n\
         Set one of these environment variables for the application:\n\n\
         | Variable | Effect |\n\
         | --- | --- |\n\
         | `ENABLE_TELEMETRY=false` | Turns telemetry off (`0`, `no` and `off` work too), even \
         if it was turned on in the application. |\n\
         | `DO_NOT_TRACK=1` | Turns telemetry off, whatever else says it should be on. |\n\
         | `TELEMETRY_DEBUG=1` | Sends nothing, and prints every event to the standard error \
         output instead, exactly as it would have been sent. |\n\n\
         While telemetry is off, nothing is sent and no network connection is made for it.\n\n",
    );

    out.push_str("## Contents\n\n");
    for (resource, group, events) in &plan.groups {
        let _ = writeln!(out, "- [`{resource}` events](#{group})");
        for (event, slug) in events {
            let _ = writeln!(out, "  - [`{}`](#{slug})", event.name);
        }
    }
    let _ = writeln!(out, "- [{LIFECYCLE_HEADING}](#{})", plan.lifecycle);
    for (event, slug) in &plan.lifecycle_events {
        let _ = writeln!(out, "  - [`{}`](#{slug})", event.name);
    }
    let _ = writeln!(out, "- [{AUTOMATIC_HEADING}](#{})", plan.automatic);
    let _ = writeln!(out, "- [{KINDS_HEADING}](#{})", plan.kinds);
    out.push('\n');

    if plan.groups.is_empty() {
        out.push_str("This application declares no events of its own.\n\n");
    }
    for (resource, _, events) in &plan.groups {
        let _ = write!(out, "## `{resource}` events\n\n");
        for (event, _) in events {
            app_event(&mut out, event);
        }
    }

    lifecycle_section(&mut out, &plan);

    let _ = write!(
        out,
        "## {AUTOMATIC_HEADING}\n\n\
         The toolkit adds these properties to every event, besides the ones listed with each \
         event:\n\n\
         | Property | Meaning | Where the value comes from |\n\
         | --- | --- | --- |\n"
    );
    for (name, description) in AUTOMATIC_PROPERTIES {
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} |",
            cell(description),
            cell(&facts::source(name).unwrap_or_default())
        );
    }
    out.push('\n');

    let _ = write!(
        out,
        "## {KINDS_HEADING}\n\n\
         | Kind of data | Meaning |\n\
         | --- | --- |\n"
    );
    for c in CLASSIFICATIONS {
        let _ = writeln!(
            out,
            "| {} | {} |",
            classification_label(c),
            cell(classification_meaning(c))
        );
    }
    out
}

fn app_event(out: &mut String, event: &CatalogEvent) {
    let _ = write!(out, "### `{}`\n\n", event.name);
    let description = event.description.trim();
    if !description.is_empty() {
        let _ = write!(out, "{description}\n\n");
    }
    let _ = writeln!(out, "- **Sent:** {}.", event.trigger.describe());
    if event.has_distinct_id {
        out.push_str(
            "- **Linked to:** the user (or other record) it is about, by a salted SHA-256 hash \
             of its id; the id itself is never sent.\n\n",
        );
    } else {
        out.push_str("- **Linked to:** the anonymous fingerprint of this installation.\n\n");
    }
    if event.props.is_empty() {
        out.push_str("No properties besides the ones on every event.\n\n");
    } else {
        let props: Vec<&PropDef> = event.props.iter().collect();
        property_table(out, &props);
        out.push('\n');
    }
}

fn lifecycle_section(out: &mut String, plan: &Plan<'_>) {
    let _ = write!(out, "## {LIFECYCLE_HEADING}\n\n");
    let events: Vec<&CatalogEvent> = plan.lifecycle_events.iter().map(|(e, _)| *e).collect();
    if events.is_empty() {
        out.push_str("This application sends no lifecycle events.\n\n");
        return;
    }
    out.push_str(
        "The telemetry toolkit sends these events on its own, to count installations, updates \
         and running instances; no feature of the application triggers them.",
    );
    // The properties all lifecycle events share, listed once.
    let common: Vec<&PropDef> = events[0]
        .props
        .iter()
        .filter(|p| {
            events
                .iter()
                .all(|e| e.props.iter().any(|q| q.name == p.name))
        })
        .collect();
    if common.is_empty() {
        out.push_str("\n\n");
    } else {
        out.push_str(" Each of them carries these properties:\n\n");
        property_table(out, &common);
        out.push('\n');
    }
    for event in events {
        let _ = write!(out, "### `{}`\n\n", event.name);
        let description = event.description.trim();
        if !description.is_empty() {
            let _ = write!(out, "{description}\n\n");
        }
        let extra: Vec<&PropDef> = event
            .props
            .iter()
            .filter(|p| !common.iter().any(|c| c.name == p.name))
            .collect();
        if !extra.is_empty() {
            out.push_str("Also carries:\n\n");
            property_table(out, &extra);
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::def;
    use crate::definition::Trigger;
    use crate::property::ValueKind;

    #[test]
    fn slugs_follow_github() {
        let mut s = Slugger::default();
        assert_eq!(s.slug("`task.created`"), "taskcreated");
        assert_eq!(s.slug("`task` events"), "task-events");
        assert_eq!(s.slug("Telemetry in my_app 2"), "telemetry-in-my_app-2");
        assert_eq!(s.slug("`task` events"), "task-events-1");
        assert_eq!(s.slug("`task` events"), "task-events-2");
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a |\n b"), "a \\| b");
    }

    #[test]
    fn events_are_grouped_by_resource_with_their_properties() {
        let a = def(
            "task.created",
            "A task was created in a project.",
            Trigger::Success,
            vec![
                PropDef::new("task_id", "u64", ValueKind::Integer, &[]),
                PropDef::new("format", "Format", ValueKind::Enum, &["csv", "pdf"]),
                PropDef::new("owner", "Hashed", ValueKind::Hashed, &[]),
                PropDef::new("estimate", "Option<u32>", ValueKind::Integer, &[]),
            ],
            "src/a.rs",
            1,
        );
        let b = def(
            "con.tents",
            "The contents page was opened by someone.",
            Trigger::Call,
            vec![],
            "src/a.rs",
            2,
        );
        let md = Catalog::from_defs([a, b])
            .with_app("tt", "1.2.3")
            .to_markdown();
        assert!(md.starts_with("# Telemetry in tt\n"));
        assert!(md.contains("**tt** (version 1.2.3)"));
        // `con.tents` slugs like the Contents heading: GitHub numbers the second one.
        assert!(md.contains("- [`con` events](#con-events)\n  - [`con.tents`](#contents-1)\n"));
        assert!(
            md.contains("- [`task` events](#task-events)\n  - [`task.created`](#taskcreated)\n")
        );
        assert!(md.contains("## `task` events\n\n### `task.created`\n\nA task was created in a project.\n\n- **Sent:** when the action succeeds.\n"));
        assert!(md.contains("| `task_id` | whole number | record identifier |\n"));
        assert!(md.contains("| `format` | one of `csv`, `pdf` | category |\n"));
        assert!(md.contains("| `owner` | salted SHA-256 hash (the value itself is never sent) | pseudonymous identifier |\n"));
        assert!(md.contains("| `estimate` | whole number; may be null | count or amount |\n"));
        assert!(md.contains("No properties besides the ones on every event."));
        assert!(md.ends_with("|\n"));
        assert!(!md.contains("\n\n\n"));
    }
}
