//! The lints on declarations, names and properties; descriptions are in `description.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::description::descriptions;
use super::{Finding, Lint};
use crate::catalog::{Catalog, CatalogEvent, site_location};
use crate::definition::{EventDef, Site, Trigger};
use crate::property::ValueKind;
use crate::wire::AUTOMATIC_PROPERTIES;

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

pub(super) fn finding(
    lint: Lint,
    events: Vec<&'static str>,
    message: String,
    sites: Vec<Site>,
) -> Finding {
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
