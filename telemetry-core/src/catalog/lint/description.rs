//! The description lints: missing, placeholder and too short.

use std::collections::BTreeSet;

use super::rules::finding;
use super::{Finding, Lint};
use crate::catalog::CatalogEvent;
use crate::definition::Site;

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
pub(super) fn is_placeholder(description: &str, name: &str) -> bool {
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

pub(super) fn descriptions(event: &CatalogEvent, findings: &mut Vec<Finding>) {
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
