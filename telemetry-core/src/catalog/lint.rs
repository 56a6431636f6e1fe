//! Lints on the catalog: mistakes that would make the transparency document wrong or useless.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Catalog, CatalogEvent, site_label, site_location};
use crate::definition::{EventDef, Site, Trigger};
use crate::property::ValueKind;
use crate::wire::AUTOMATIC_PROPERTIES;

/// How bad a [`Finding`] is.
///
/// ```
/// use telemetry_core::catalog::Severity;
/// let errors = telemetry_core::catalog().lint().into_iter().filter(|f| f.severity() == Severity::Error);
/// # let _ = errors;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth fixing; printed by the document check, which still passes.
    Warning,
    /// The document would be wrong: the document check fails.
    Error,
}

impl Severity {
    /// `"warning"` or `"error"`.
    ///
    /// ```
    /// assert_eq!(telemetry_core::catalog::Severity::Error.as_str(), "error");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`Catalog::lint`] checks.
///
/// ```
/// use telemetry_core::catalog::{Lint, Severity};
/// assert_eq!(Lint::ConfusableNames.code(), "confusable-names");
/// assert_eq!(Lint::UnspecifiedKind.severity(), Severity::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Lint {
    /// Error: one event name declared at several sites whose properties (names, kinds,
    /// classification, enum values), trigger or distinct id differ. The document can show only
    /// one of them.
    ConflictingDeclarations,
    /// Warning: one event name declared at several sites with different descriptions; the
    /// document shows the first.
    DivergentDescriptions,
    /// Error: two event names that differ only by punctuation (`task.status_changed` and
    /// `task.statuschanged`), almost always one event split in two by a typo.
    ConfusableNames,
    /// Error: an empty description.
    MissingDescription,
    /// Error: a placeholder description (`TODO`, `tbd`, `fixme`, `...`, `description`, the event
    /// name itself, ...).
    PlaceholderDescription,
    /// Warning: a description of fewer than three words, too short to tell a reader what
    /// happened.
    ShortDescription,
    /// Warning: a property whose value type the macro could not name; the document shows
    /// "not specified". Write `name: Type = expr` in `props(...)`.
    UnspecifiedKind,
    /// Error: a property declared twice on one event; only the last value is sent, so the
    /// first is declared but never set.
    DuplicateProperty,
    /// Error: a property named like one the toolkit sets on its own (`app_version`, `$lib`,
    /// ...) or with PostHog's `$` prefix; the toolkit's value replaces it, so it is declared but
    /// never set.
    ReservedProperty,
    /// Error: an event name that is not lowercase `resource.action` (at most 64 characters), or
    /// an application event under the toolkit's reserved `telemetry.` prefix.
    InvalidName,
}

impl Lint {
    /// Every lint.
    ///
    /// ```
    /// use telemetry_core::catalog::Lint;
    /// assert!(Lint::ALL.contains(&Lint::InvalidName));
    /// ```
    pub const ALL: [Lint; 10] = [
        Lint::ConflictingDeclarations,
        Lint::DivergentDescriptions,
        Lint::ConfusableNames,
        Lint::MissingDescription,
        Lint::PlaceholderDescription,
        Lint::ShortDescription,
        Lint::UnspecifiedKind,
        Lint::DuplicateProperty,
        Lint::ReservedProperty,
        Lint::InvalidName,
    ];

    /// The kebab-case code shown in messages.
    ///
    /// ```
    /// assert_eq!(telemetry_core::catalog::Lint::InvalidName.code(), "invalid-name");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            Lint::ConflictingDeclarations => "conflicting-declarations",
            Lint::DivergentDescriptions => "divergent-descriptions",
            Lint::ConfusableNames => "confusable-names",
            Lint::MissingDescription => "missing-description",
            Lint::PlaceholderDescription => "placeholder-description",
            Lint::ShortDescription => "short-description",
            Lint::UnspecifiedKind => "unspecified-kind",
            Lint::DuplicateProperty => "duplicate-property",
            Lint::ReservedProperty => "reserved-property",
            Lint::InvalidName => "invalid-name",
        }
    }

    /// How bad it is.
    ///
    /// ```
    /// use telemetry_core::catalog::{Lint, Severity};
    /// assert_eq!(Lint::ConflictingDeclarations.severity(), Severity::Error);
    /// ```
    pub const fn severity(self) -> Severity {
        match self {
            Lint::DivergentDescriptions | Lint::ShortDescription | Lint::UnspecifiedKind => {
                Severity::Warning
            }
            Lint::ConflictingDeclarations
            | Lint::ConfusableNames
            | Lint::MissingDescription
            | Lint::PlaceholderDescription
            | Lint::DuplicateProperty
            | Lint::ReservedProperty
            | Lint::InvalidName => Severity::Error,
        }
    }
}

/// One problem found by [`Catalog::lint`], with the events and sites it concerns.
///
/// Its `Display` form is a compiler-style message:
///
/// ```text
/// error[confusable-names]: event names that differ only by punctuation: `task.status_changed`, `task.statuschanged`
///   --> src/tasks.rs:40 (timetracker::tasks::set_status)
///   --> src/board.rs:12 (timetracker::board::drop_card)
/// ```
///
/// ```
/// use telemetry_core::catalog::Lint;
/// use telemetry_core::{Catalog, EventDef, Site, Trigger};
///
/// static SAVED: EventDef = EventDef {
///     name: "report.saved",
///     description: "TODO",
///     trigger: Trigger::Success,
///     props: &[],
///     has_distinct_id: false,
///     site: Site { module_path: "app::reports", function: "save", file: "src/reports.rs", line: 12 },
/// };
///
/// let finding = &Catalog::from_defs([&SAVED]).lint()[0];
/// assert_eq!((finding.lint, finding.events.as_slice()), (Lint::PlaceholderDescription, &["report.saved"][..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding {
    /// Which lint.
    pub lint: Lint,
    /// The events concerned, sorted.
    pub events: Vec<&'static str>,
    /// What is wrong and how to fix it (may span several lines).
    pub message: String,
    /// The declarations concerned.
    pub sites: Vec<Site>,
}

impl Finding {
    /// The lint's severity.
    ///
    /// ```
    /// use telemetry_core::catalog::Severity;
    /// use telemetry_core::{Catalog, EventDef, Site, Trigger};
    ///
    /// static SAVED: EventDef = EventDef {
    ///     name: "report.saved",
    ///     description: "TODO",
    ///     trigger: Trigger::Success,
    ///     props: &[],
    ///     has_distinct_id: false,
    ///     site: Site { module_path: "app::reports", function: "save", file: "src/reports.rs", line: 12 },
    /// };
    ///
    /// assert_eq!(Catalog::from_defs([&SAVED]).lint()[0].severity(), Severity::Error);
    /// ```
    pub const fn severity(&self) -> Severity {
        self.lint.severity()
    }

    /// Whether it fails the document check.
    ///
    /// ```
    /// use telemetry_core::{Catalog, EventDef, Site, Trigger};
    ///
    /// static SAVED: EventDef = EventDef {
    ///     name: "report.saved",
    ///     description: "TODO",
    ///     trigger: Trigger::Success,
    ///     props: &[],
    ///     has_distinct_id: false,
    ///     site: Site { module_path: "app::reports", function: "save", file: "src/reports.rs", line: 12 },
    /// };
    ///
    /// assert!(Catalog::from_defs([&SAVED]).lint()[0].is_error()); // fails the document check
    /// ```
    pub const fn is_error(&self) -> bool {
        matches!(self.lint.severity(), Severity::Error)
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            self.severity(),
            self.lint.code(),
            self.message
        )?;
        for site in &self.sites {
            write!(f, "\n  --> {}", site_label(site))?;
        }
        Ok(())
    }
}

pub(crate) fn lint(catalog: &Catalog) -> Vec<Finding> {
    let mut findings = Vec::new();
    for event in catalog.entries() {
        conflicting_declarations(event, &mut findings);
        divergent_descriptions(event, &mut findings);
        invalid_name(event, &mut findings);
        descriptions(event, &mut findings);
        properties(event, &mut findings);
    }
    confusable_names(catalog, &mut findings);
    findings.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then_with(|| a.events.cmp(&b.events))
            .then_with(|| a.lint.cmp(&b.lint))
            .then_with(|| a.message.cmp(&b.message))
    });
    findings
}

fn finding(lint: Lint, events: Vec<&'static str>, message: String, sites: Vec<Site>) -> Finding {
    Finding {
        lint,
        events,
        message,
        sites,
    }
}

/// Groups the declarations of `event` by `aspect`; one line per aspect with several values.
fn disagreement(
    event: &CatalogEvent,
    label: &str,
    aspect: impl Fn(&EventDef) -> String,
) -> Option<String> {
    // In the order of the declarations, so the first (the one the document shows) comes first.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for def in &event.declarations {
        let value = aspect(def);
        let location = site_location(&def.site);
        match groups.iter_mut().find(|(v, _)| *v == value) {
            Some((_, sites)) => sites.push(location),
            None => groups.push((value, vec![location])),
        }
    }
    if groups.len() < 2 {
        return None;
    }
    let parts: Vec<String> = groups
        .into_iter()
        .map(|(value, sites)| format!("{value} at {}", sites.join(", ")))
        .collect();
    Some(format!("  - {label}: {}", parts.join("; ")))
}

fn prop_signature(def: &EventDef, name: &str) -> String {
    match def.props.iter().find(|p| p.name == name) {
        None => "absent".to_owned(),
        Some(p) => {
            let mut s = format!("{} ({})", p.kind.as_str(), p.classification.as_str());
            if !p.variants.is_empty() {
                s.push_str(&format!(" one of [{}]", p.variants.join(", ")));
            }
            s
        }
    }
}

fn conflicting_declarations(event: &CatalogEvent, findings: &mut Vec<Finding>) {
    if event.declarations.len() < 2 {
        return;
    }
    let mut lines = Vec::new();
    lines.extend(disagreement(event, "trigger", |d| {
        format!("`{}`", d.trigger.as_str())
    }));
    lines.extend(disagreement(event, "distinct id", |d| {
        if d.has_distinct_id {
            "a hashed subject".to_owned()
        } else {
            "the install fingerprint".to_owned()
        }
    }));
    let names: BTreeSet<&str> = event
        .declarations
        .iter()
        .flat_map(|d| d.props.iter().map(|p| p.name))
        .collect();
    for name in names {
        lines.extend(disagreement(event, &format!("property `{name}`"), |d| {
            prop_signature(d, name)
        }));
    }
    if lines.is_empty() {
        return;
    }
    findings.push(finding(
        Lint::ConflictingDeclarations,
        vec![event.name],
        format!(
            "`{}` is declared at {} sites that disagree:\n{}\n  = help: declare the same \
             trigger and properties everywhere, or give the different events different names",
            event.name,
            event.sites.len(),
            lines.join("\n")
        ),
        event.sites.clone(),
    ));
}

fn divergent_descriptions(event: &CatalogEvent, findings: &mut Vec<Finding>) {
    if let Some(line) = disagreement(event, "description", |d| format!("{:?}", d.description)) {
        findings.push(finding(
            Lint::DivergentDescriptions,
            vec![event.name],
            format!(
                "`{}` has different descriptions at different sites; the document shows the \
                 first:\n{line}",
                event.name
            ),
            event.sites.clone(),
        ));
    }
}

fn invalid_name(event: &CatalogEvent, findings: &mut Vec<Finding>) {
    // The same rules as the macros'; only the toolkit's own lifecycle events may use the
    // reserved `telemetry.` prefix.
    let problem = match crate::naming::check_event_name(event.name) {
        Ok(()) => None,
        Err(error)
            if error.kind == crate::naming::NameErrorKind::Reserved
                && event.trigger == Trigger::Lifecycle =>
        {
            None
        }
        Err(error) => Some(error),
    };
    if let Some(problem) = problem {
        findings.push(finding(
            Lint::InvalidName,
            vec![event.name],
            format!("{} (help: {})", problem.message, problem.hint),
            event.sites.clone(),
        ));
    }
}

const PLACEHOLDERS: &[&str] = &[
    "todo",
    "tbd",
    "tba",
    "fixme",
    "xxx",
    "wip",
    "...",
    "…",
    "-",
    "?",
    "n/a",
    "na",
    "none",
    "placeholder",
    "description",
    "desc",
    "event",
    "lorem ipsum",
    "add description",
    "add a description",
    "describe",
    "todo describe",
];

/// Whether `description` is a placeholder rather than a description of `name`.
pub(crate) fn is_placeholder(description: &str, name: &str) -> bool {
    let lower = description.trim().to_lowercase();
    let core = lower.trim_end_matches(['.', ':', '!', ' ']);
    if core.is_empty() && !lower.is_empty() {
        // Only dots or colons.
        return true;
    }
    if PLACEHOLDERS.contains(&core) || PLACEHOLDERS.contains(&lower.as_str()) || core == name {
        return true;
    }
    if !core.chars().any(char::is_alphanumeric) {
        return true;
    }
    // A leading marker: `TODO ...`, `todo: ...`, `FIXME`, `tbd later`; not `Todo lists ...`.
    let trimmed = description.trim();
    let word_len = trimmed
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(trimmed.len());
    let (word, rest) = trimmed.split_at(word_len);
    matches!(
        word.to_ascii_lowercase().as_str(),
        "todo" | "tbd" | "fixme" | "xxx"
    ) && (word.chars().all(|c| c.is_ascii_uppercase())
        || rest.starts_with(':')
        || word_count(trimmed) <= 2)
}

fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

fn descriptions(event: &CatalogEvent, findings: &mut Vec<Finding>) {
    // Every declaration counts: a placeholder at a second site is still a placeholder.
    let mut seen = BTreeSet::new();
    for def in &event.declarations {
        if !seen.insert(def.description) {
            continue;
        }
        let sites: Vec<Site> = event
            .declarations
            .iter()
            .filter(|d| d.description == def.description)
            .map(|d| d.site)
            .collect();
        let description = def.description.trim();
        let (lint, message) = if description.is_empty() {
            (
                Lint::MissingDescription,
                format!(
                    "`{}` has no description; the transparency document needs one\n  = help: \
                     write a doc comment on the function (its first paragraph is the \
                     description) or `description = \"...\"`",
                    event.name
                ),
            )
        } else if is_placeholder(description, event.name) {
            (
                Lint::PlaceholderDescription,
                format!(
                    "`{}` has the placeholder description {description:?}\n  = help: say in a \
                     sentence what happened, for a reader who does not know the code",
                    event.name
                ),
            )
        } else if word_count(description) < 3 {
            (
                Lint::ShortDescription,
                format!(
                    "`{}` has the description {description:?}, too short to tell a reader what \
                     happened (fewer than 3 words)",
                    event.name
                ),
            )
        } else {
            continue;
        };
        findings.push(finding(lint, vec![event.name], message, sites));
    }
}

fn properties(event: &CatalogEvent, findings: &mut Vec<Finding>) {
    let mut seen = BTreeSet::new();
    for def in &event.declarations {
        if !seen.insert(def.props.as_ptr()) {
            continue;
        }
        let mut names = BTreeSet::new();
        for prop in def.props {
            if !names.insert(prop.name) {
                findings.push(finding(
                    Lint::DuplicateProperty,
                    vec![event.name],
                    format!(
                        "`{}` declares the property `{}` more than once; only the last value is \
                         sent",
                        event.name, prop.name
                    ),
                    vec![def.site],
                ));
            }
            if prop.name.starts_with('$')
                || AUTOMATIC_PROPERTIES.iter().any(|(n, _)| *n == prop.name)
            {
                findings.push(finding(
                    Lint::ReservedProperty,
                    vec![event.name],
                    format!(
                        "`{}` declares the property `{}`, which the toolkit or PostHog sets on \
                         its own; the declared value would never be sent\n  = help: rename the \
                         property",
                        event.name, prop.name
                    ),
                    vec![def.site],
                ));
            }
            if prop.kind == ValueKind::Unspecified {
                findings.push(finding(
                    Lint::UnspecifiedKind,
                    vec![event.name],
                    format!(
                        "the property `{}` of `{}` has no known value type, so the document \
                         shows \"not specified\"\n  = help: name the type in the declaration: \
                         `props({}: Type = expr)`",
                        prop.name, event.name, prop.name
                    ),
                    vec![def.site],
                ));
            }
        }
    }
    // The same finding from identical declarations at several sites: keep one, with all sites.
    merge_duplicates(findings);
}

fn merge_duplicates(findings: &mut Vec<Finding>) {
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        match merged
            .iter_mut()
            .find(|m| m.lint == f.lint && m.events == f.events && m.message == f.message)
        {
            Some(m) => {
                for site in f.sites {
                    if !m.sites.contains(&site) {
                        m.sites.push(site);
                    }
                }
            }
            None => merged.push(f),
        }
    }
    *findings = merged;
}

fn confusable_names(catalog: &Catalog, findings: &mut Vec<Finding>) {
    let mut groups: BTreeMap<String, Vec<&CatalogEvent>> = BTreeMap::new();
    for event in catalog.entries() {
        let key: String = event
            .name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        groups.entry(key).or_default().push(event);
    }
    for events in groups.into_values().filter(|g| g.len() > 1) {
        let names: Vec<&'static str> = events.iter().map(|e| e.name).collect();
        let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        findings.push(finding(
            Lint::ConfusableNames,
            names,
            format!(
                "event names that differ only by punctuation: {}\n  = help: use one name for \
                 one event",
                listed.join(", ")
            ),
            events
                .iter()
                .flat_map(|e| e.sites.iter().copied())
                .collect(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::def;
    use crate::definition::{Classification, PropDef};

    const GOOD: &str = "A task was created in a project.";

    fn lints(catalog: &Catalog) -> Vec<(Lint, Vec<&'static str>)> {
        catalog
            .lint()
            .into_iter()
            .map(|f| (f.lint, f.events))
            .collect()
    }

    fn id(name: &'static str) -> PropDef {
        PropDef::new(name, "u64", ValueKind::Integer, &[])
    }

    #[test]
    fn identical_declarations_are_clean() {
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![id("task_id")],
            "src/a.rs",
            1,
        );
        let b = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![id("task_id")],
            "src/b.rs",
            2,
        );
        assert!(Catalog::from_defs([a, b]).lint().is_empty());
    }

    #[test]
    fn conflicting_properties_are_an_error_with_both_sites() {
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![id("task_id")],
            "src/a.rs",
            1,
        );
        let b = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![
                PropDef::new("task_id", "f64", ValueKind::Float, &[]),
                id("extra_id"),
            ],
            "src/b.rs",
            2,
        );
        let findings = Catalog::from_defs([a, b]).lint();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        let f = &findings[0];
        assert_eq!(f.lint, Lint::ConflictingDeclarations);
        assert!(f.is_error());
        assert_eq!(f.sites.len(), 2);
        let text = f.to_string();
        assert!(
            text.starts_with("error[conflicting-declarations]: `task.created`"),
            "{text}"
        );
        assert!(text.contains("property `task_id`: integer (identifier) at src/a.rs:1; float (identifier) at src/b.rs:2"), "{text}");
        assert!(
            text.contains(
                "property `extra_id`: absent at src/a.rs:1; integer (identifier) at src/b.rs:2"
            ),
            "{text}"
        );
        assert!(
            text.contains("--> src/a.rs:1 (app::handlers::handler)"),
            "{text}"
        );
    }

    #[test]
    fn conflicting_classification_trigger_and_distinct_id_are_errors() {
        let mut flagged = id("task_id");
        flagged.classification = Classification::Measurement;
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![id("task_id")],
            "src/a.rs",
            1,
        );
        let b = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![flagged],
            "src/b.rs",
            2,
        );
        let text = Catalog::from_defs([a, b]).lint()[0].to_string();
        assert!(
            text.contains("integer (measurement) at src/b.rs:2"),
            "{text}"
        );

        let c = def(
            "task.created",
            GOOD,
            Trigger::Return,
            vec![id("task_id")],
            "src/c.rs",
            3,
        );
        let findings = Catalog::from_defs([a, c]).lint();
        assert_eq!(findings[0].lint, Lint::ConflictingDeclarations);
        assert!(
            findings[0]
                .message
                .contains("trigger: `success` at src/a.rs:1; `return` at src/c.rs:3")
        );

        let mut with_subject = *a;
        with_subject.has_distinct_id = true;
        with_subject.site.line = 9;
        let d: &'static EventDef = Box::leak(Box::new(with_subject));
        let findings = Catalog::from_defs([a, d]).lint();
        assert_eq!(findings[0].lint, Lint::ConflictingDeclarations);
        assert!(findings[0].message.contains("distinct id"));
    }

    #[test]
    fn different_enum_values_conflict() {
        let a = def(
            "report.exported",
            GOOD,
            Trigger::Success,
            vec![PropDef::new(
                "format",
                "Format",
                ValueKind::Enum,
                &["csv", "pdf"],
            )],
            "src/a.rs",
            1,
        );
        let b = def(
            "report.exported",
            GOOD,
            Trigger::Success,
            vec![PropDef::new("format", "Format", ValueKind::Enum, &["csv"])],
            "src/b.rs",
            1,
        );
        assert_eq!(
            lints(&Catalog::from_defs([a, b])),
            [(Lint::ConflictingDeclarations, vec!["report.exported"])]
        );
    }

    #[test]
    fn divergent_descriptions_are_a_warning() {
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        let b = def(
            "task.created",
            "A task was added to a project.",
            Trigger::Success,
            vec![],
            "src/b.rs",
            1,
        );
        let findings = Catalog::from_defs([a, b]).lint();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].lint, Lint::DivergentDescriptions);
        assert_eq!(findings[0].severity(), Severity::Warning);
    }

    #[test]
    fn names_differing_only_by_punctuation_are_an_error() {
        let a = def(
            "task.status_changed",
            GOOD,
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        let b = def(
            "task.statuschanged",
            GOOD,
            Trigger::Success,
            vec![],
            "src/b.rs",
            2,
        );
        let c = def(
            "task_status.changed",
            GOOD,
            Trigger::Success,
            vec![],
            "src/c.rs",
            3,
        );
        let d = def("task.status", GOOD, Trigger::Success, vec![], "src/d.rs", 4);
        let findings = Catalog::from_defs([a, b, c, d]).lint();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].lint, Lint::ConfusableNames);
        assert_eq!(
            findings[0].events,
            [
                "task.status_changed",
                "task.statuschanged",
                "task_status.changed"
            ]
        );
        assert_eq!(findings[0].sites.len(), 3);
    }

    #[test]
    fn empty_descriptions_are_an_error() {
        let a = def(
            "task.created",
            "  ",
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        assert_eq!(
            lints(&Catalog::from_defs([a])),
            [(Lint::MissingDescription, vec!["task.created"])]
        );
    }

    #[test]
    fn placeholder_descriptions_are_an_error() {
        for placeholder in [
            "TODO",
            "todo",
            "TODO: describe this",
            "tbd",
            "FIXME",
            "...",
            "…",
            "Description",
            "description.",
            "task.created",
            "???",
            "XXX later",
        ] {
            let a = def(
                "task.created",
                placeholder,
                Trigger::Success,
                vec![],
                "src/a.rs",
                1,
            );
            assert_eq!(
                lints(&Catalog::from_defs([a])),
                [(Lint::PlaceholderDescription, vec!["task.created"])],
                "{placeholder:?}"
            );
        }
        for fine in [
            GOOD,
            "Todo list items were reordered by the user.",
            "A description was edited in a task.",
        ] {
            assert!(!is_placeholder(fine, "task.created"), "{fine:?}");
        }
    }

    #[test]
    fn short_descriptions_are_a_warning() {
        let a = def(
            "task.created",
            "Task created.",
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        let findings = Catalog::from_defs([a]).lint();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].lint, Lint::ShortDescription);
        assert!(!findings[0].is_error());
    }

    #[test]
    fn unspecified_kinds_are_a_warning_suggesting_a_type() {
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![PropDef::new("count", "", ValueKind::Unspecified, &[])],
            "src/a.rs",
            1,
        );
        let findings = Catalog::from_defs([a]).lint();
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].lint, Lint::UnspecifiedKind);
        assert_eq!(findings[0].severity(), Severity::Warning);
        assert!(findings[0].message.contains("`props(count: Type = expr)`"));
    }

    #[test]
    fn findings_of_identical_declarations_are_reported_once_with_all_sites() {
        let props = vec![PropDef::new("count", "", ValueKind::Unspecified, &[])];
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            props.clone(),
            "src/a.rs",
            1,
        );
        let b = def("task.created", GOOD, Trigger::Success, props, "src/b.rs", 2);
        let findings = Catalog::from_defs([a, b]).lint();
        assert_eq!(findings.len(), 1, "{findings:#?}");
        assert_eq!(findings[0].sites.len(), 2);
    }

    #[test]
    fn duplicate_properties_are_an_error() {
        let a = def(
            "task.created",
            GOOD,
            Trigger::Success,
            vec![id("task_id"), id("task_id")],
            "src/a.rs",
            1,
        );
        assert_eq!(
            lints(&Catalog::from_defs([a])),
            [(Lint::DuplicateProperty, vec!["task.created"])]
        );
    }

    #[test]
    fn reserved_properties_are_an_error() {
        for name in ["app_version", "$lib", "$ip"] {
            let a = def(
                "task.created",
                GOOD,
                Trigger::Success,
                vec![id(name)],
                "src/a.rs",
                1,
            );
            assert_eq!(
                lints(&Catalog::from_defs([a])),
                [(Lint::ReservedProperty, vec!["task.created"])],
                "{name}"
            );
        }
    }

    #[test]
    fn invalid_and_reserved_names_are_an_error() {
        for name in [
            "Task.Created",
            "task",
            "task..created",
            "task.created!",
            "telemetry.custom",
        ] {
            let a = def(name, GOOD, Trigger::Success, vec![], "src/a.rs", 1);
            assert_eq!(
                lints(&Catalog::from_defs([a])),
                [(Lint::InvalidName, vec![name])],
                "{name}"
            );
        }
    }

    #[test]
    fn lifecycle_events_are_clean() {
        let findings = crate::catalog::catalog().lint();
        let lifecycle: Vec<_> = findings
            .iter()
            .filter(|f| f.events.iter().any(|e| e.starts_with("telemetry.")))
            .collect();
        assert!(lifecycle.is_empty(), "{lifecycle:#?}");
    }

    #[test]
    fn errors_sort_before_warnings() {
        let a = def(
            "task.created",
            "Task created.",
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        let b = def("zeta.created", "", Trigger::Success, vec![], "src/b.rs", 1);
        let findings = Catalog::from_defs([a, b]).lint();
        assert_eq!(findings[0].severity(), Severity::Error);
        assert_eq!(findings[1].severity(), Severity::Warning);
        assert_eq!(Lint::ALL.len(), 10);
    }
}
