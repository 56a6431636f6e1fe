//! The privacy changelog: what a change does to data collection, between a committed
//! `telemetry-catalog/v1` document and this binary's catalog, as Markdown for a pull request.
//!
//! Both sides are compared as documents (the new one is rendered with [`Catalog::to_json`]), so
//! a document written by an older release reads the same way as a fresh one. What is compared
//! is what reaches the analytics service: events, their properties (kind of value, allowed
//! values, classification, hashing, nullability), when they are sent, what they are linked to,
//! descriptions, and the properties on every event. Where an event is declared, and the
//! application's name and version, are not data collection and are not compared.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Deserialize;

use super::{Catalog, SCHEMA_NAME, facts, markdown};
use words::{added_event, automatic_changes, event_changes, summary, with_properties};

mod words;

/// The command-line flag handled by [`exit_if_requested`](super::exit_if_requested):
/// `--telemetry-catalog-diff=OLD.json` prints [`CatalogDiff::to_markdown`] and exits 0.
///
/// ```
/// assert_eq!(telemetry_core::catalog::DIFF_FLAG, "--telemetry-catalog-diff");
/// ```
pub const DIFF_FLAG: &str = "--telemetry-catalog-diff";

/// Why the committed (old) document cannot be compared.
///
/// ```
/// use telemetry_core::catalog::{OldDocumentError, diff};
/// let error = diff("{}", &telemetry_core::catalog()).unwrap_err();
/// assert_eq!(error, OldDocumentError::WrongSchema(None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OldDocumentError {
    /// It is not JSON.
    NotJson(String),
    /// It is JSON, but its `schema` is not `telemetry-catalog/v1` (the value found, if any).
    WrongSchema(Option<String>),
    /// It says `telemetry-catalog/v1` but lacks a key or has a value of the wrong type.
    Malformed(String),
}

impl fmt::Display for OldDocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OldDocumentError::NotJson(error) => write!(
                f,
                "it is not JSON ({error}); give the {SCHEMA_NAME} document written by \
                 --telemetry-catalog=json, not the Markdown one"
            ),
            OldDocumentError::WrongSchema(Some(found)) => write!(
                f,
                "its schema is {found:?}, not {SCHEMA_NAME:?}; this binary compares only \
                 {SCHEMA_NAME} documents"
            ),
            OldDocumentError::WrongSchema(None) => write!(
                f,
                "it has no \"schema\": {SCHEMA_NAME:?} key, so it is not a telemetry catalog \
                 document (write one with --telemetry-catalog=json)"
            ),
            OldDocumentError::Malformed(error) => {
                write!(f, "it is not a valid {SCHEMA_NAME} document: {error}")
            }
        }
    }
}

impl std::error::Error for OldDocumentError {}

#[derive(Deserialize, Clone, PartialEq)]
struct Document {
    events: Vec<Event>,
    lifecycle_events: Vec<Event>,
    #[serde(default)]
    automatic_properties: Vec<Automatic>,
}

#[derive(Deserialize, Clone, PartialEq)]
struct Event {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    when: String,
    #[serde(default)]
    hashed_distinct_id: bool,
    #[serde(default)]
    properties: Vec<Property>,
}

#[derive(Deserialize, Clone, PartialEq)]
struct Property {
    name: String,
    kind: String,
    #[serde(default)]
    variants: Vec<String>,
    classification: String,
    #[serde(default)]
    hashed: bool,
    // Documents written before nullability was recorded mark nothing.
    #[serde(default)]
    nullable: bool,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize, Clone, PartialEq)]
struct Automatic {
    name: String,
    #[serde(default)]
    description: String,
}

fn parse(text: &str) -> Result<Document, OldDocumentError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| OldDocumentError::NotJson(e.to_string()))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(SCHEMA_NAME) => {}
        Some(other) => return Err(OldDocumentError::WrongSchema(Some(other.to_owned()))),
        None => {
            return Err(OldDocumentError::WrongSchema(
                value.get("schema").map(|s| s.to_string()),
            ));
        }
    }
    let mut doc: Document =
        serde_json::from_value(value).map_err(|e| OldDocumentError::Malformed(e.to_string()))?;
    // Earlier v1 documents call the text the toolkit sets (a version, the OS name) `enum`, and
    // their Markdown called it text, as the JSON now does: the same data, not a change.
    for event in doc.events.iter_mut().chain(&mut doc.lifecycle_events) {
        for p in &mut event.properties {
            if p.kind == "enum" && p.variants.is_empty() && p.classification == "technical" {
                p.kind = "text".to_owned();
            }
        }
    }
    Ok(doc)
}

/// What changed in data collection between a committed catalog document and a newer one: the
/// privacy changelog of a pull request.
///
/// Build it with [`diff`] (a committed document against this binary's catalog) or
/// [`CatalogDiff::between`] (two documents); render it with [`CatalogDiff::to_markdown`].
///
/// ```
/// use telemetry_core::catalog::CatalogDiff;
/// let document = telemetry_core::catalog().to_json();
/// let changes = CatalogDiff::between(&document, &document).unwrap();
/// assert!(changes.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogDiff {
    added: Vec<String>,
    removed: Vec<String>,
    changed: Vec<String>,
    automatic_changed: bool,
    markdown: String,
}

/// Compares the committed document `old` (the JSON text of a `telemetry-catalog/v1` document,
/// as written by `--telemetry-catalog=json` or [`Catalog::to_json`]) with the catalog `new`.
///
/// ```
/// use telemetry_core::catalog::diff;
///
/// let catalog = telemetry_core::catalog();
/// let committed = catalog.to_json();
/// let changes = diff(&committed, &catalog).unwrap();
/// assert!(changes.is_empty());
/// assert!(changes.to_markdown().contains("No change to data collection"));
///
/// // An event the committed document lists and the code no longer has:
/// let mut old: serde_json::Value = serde_json::from_str(&committed).unwrap();
/// let mut gone = old["lifecycle_events"][0].clone();
/// gone["name"] = "report.exported".into();
/// old["events"].as_array_mut().unwrap().push(gone);
/// let changes = diff(&old.to_string(), &catalog).unwrap();
/// assert_eq!(changes.removed_events(), ["report.exported"]);
/// assert!(changes.to_markdown().contains("`report.exported`"));
///
/// assert!(diff("# Telemetry in app", &catalog).is_err());
/// ```
pub fn diff(old: &str, new: &Catalog) -> Result<CatalogDiff, OldDocumentError> {
    CatalogDiff::between(old, &new.to_json())
}

impl CatalogDiff {
    /// Compares two `telemetry-catalog/v1` documents (JSON text). An error names what is wrong
    /// with `old`; `new` is expected to be valid too (an invalid one is reported the same way).
    ///
    /// ```
    /// use telemetry_core::catalog::CatalogDiff;
    /// let document = telemetry_core::catalog().to_json();
    /// assert!(CatalogDiff::between(&document, &document).unwrap().is_empty());
    /// assert!(CatalogDiff::between("not json", &document).is_err());
    /// ```
    pub fn between(old: &str, new: &str) -> Result<CatalogDiff, OldDocumentError> {
        let old = parse(old)?;
        let new = parse(new)?;
        Ok(compare(&old, &new))
    }

    /// Whether data collection is unchanged.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// assert!(telemetry_core::catalog::diff(&catalog.to_json(), &catalog).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && !self.automatic_changed
    }

    /// The events the new catalog has and the old one did not, sorted.
    ///
    /// ```
    /// use telemetry_core::catalog::CatalogDiff;
    /// let new: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    /// let mut old = new.clone();
    /// old["events"] = serde_json::json!([]);
    /// let changes = CatalogDiff::between(&old.to_string(), &new.to_string()).unwrap();
    /// let names: Vec<_> = new["events"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    /// assert_eq!(changes.added_events(), names);
    /// ```
    pub fn added_events(&self) -> &[String] {
        &self.added
    }

    /// The events the old document had and the new catalog does not, sorted.
    ///
    /// ```
    /// use telemetry_core::catalog::CatalogDiff;
    /// let old: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    /// let mut new = old.clone();
    /// new["events"] = serde_json::json!([]);
    /// let changes = CatalogDiff::between(&old.to_string(), &new.to_string()).unwrap();
    /// assert_eq!(changes.removed_events().len(), old["events"].as_array().unwrap().len());
    /// ```
    pub fn removed_events(&self) -> &[String] {
        &self.removed
    }

    /// The events in both whose data collection or description changed, sorted.
    ///
    /// ```
    /// use telemetry_core::catalog::CatalogDiff;
    /// let old: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    /// let mut new = old.clone();
    /// new["lifecycle_events"][0]["description"] = "Sent on every start.".into();
    /// let changes = CatalogDiff::between(&old.to_string(), &new.to_string()).unwrap();
    /// assert_eq!(changes.changed_events(), [old["lifecycle_events"][0]["name"].as_str().unwrap()]);
    /// ```
    pub fn changed_events(&self) -> &[String] {
        &self.changed
    }

    /// Whether the properties the toolkit adds to every event changed.
    ///
    /// ```
    /// use telemetry_core::catalog::CatalogDiff;
    /// let old: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    /// let mut new = old.clone();
    /// new["automatic_properties"].as_array_mut().unwrap().pop();
    /// let changes = CatalogDiff::between(&old.to_string(), &new.to_string()).unwrap();
    /// assert!(changes.automatic_properties_changed());
    /// ```
    pub fn automatic_properties_changed(&self) -> bool {
        self.automatic_changed
    }

    /// The changelog as Markdown, for a pull-request comment: a heading, one line of summary,
    /// then the added, removed and changed events in plain words. Unchanged events are not
    /// mentioned; with no change at all it is one line saying so.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// let changes = telemetry_core::catalog::diff(&catalog.to_json(), &catalog).unwrap();
    /// assert!(changes.to_markdown().contains("No change to data collection"));
    /// ```
    pub fn to_markdown(&self) -> String {
        self.markdown.clone()
    }
}

impl fmt::Display for CatalogDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.markdown)
    }
}

const HEADING: &str = "### Telemetry: what this change does to data collection";

fn all_events(doc: &Document) -> BTreeMap<&str, (&Event, bool)> {
    let app = doc.events.iter().map(|e| (e, false));
    let lifecycle = doc.lifecycle_events.iter().map(|e| (e, true));
    app.chain(lifecycle)
        .map(|(e, l)| (e.name.as_str(), (e, l)))
        .collect()
}

fn compare(old: &Document, new: &Document) -> CatalogDiff {
    let old_events = all_events(old);
    let new_events = all_events(new);
    let mut added = String::new();
    let mut removed = String::new();
    let mut changed = String::new();
    let mut names = (Vec::new(), Vec::new(), Vec::new());

    for (name, (event, lifecycle)) in &new_events {
        if !old_events.contains_key(name) {
            names.0.push((*name).to_owned());
            added_event(&mut added, event, *lifecycle);
        }
    }
    for (name, (event, _)) in &old_events {
        match new_events.get(name) {
            None => {
                names.1.push((*name).to_owned());
                let _ = writeln!(
                    removed,
                    "- `{name}`: no longer sent{}.",
                    with_properties(&event.properties)
                );
            }
            Some((after, _)) => {
                let lines = event_changes(event, after);
                if !lines.is_empty() {
                    names.2.push((*name).to_owned());
                    let _ = writeln!(changed, "- `{name}`");
                    for line in lines {
                        let _ = writeln!(changed, "  - {line}");
                    }
                }
            }
        }
    }
    let automatic = automatic_changes(&old.automatic_properties, &new.automatic_properties);

    let mut out = format!("{HEADING}\n\n");
    if names.0.is_empty() && names.1.is_empty() && names.2.is_empty() && automatic.is_empty() {
        out.push_str(
            "No change to data collection: the events and properties this application can send \
             are the same as in the committed document.\n",
        );
    } else {
        let _ = write!(
            out,
            "This change alters what the application can send: {}.\n\n",
            summary(
                names.0.len(),
                names.1.len(),
                names.2.len(),
                !automatic.is_empty()
            )
        );
        for (title, body) in [
            ("Events added", added.as_str()),
            ("Events removed", removed.as_str()),
            ("Events changed", changed.as_str()),
        ] {
            if !body.is_empty() {
                let _ = write!(out, "**{title}**\n\n{body}\n");
            }
        }
        if !automatic.is_empty() {
            out.push_str("**Properties on every event**\n\n");
            for line in &automatic {
                let _ = writeln!(out, "- {line}");
            }
            out.push('\n');
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    let (added, removed, changed) = names;
    CatalogDiff {
        added,
        removed,
        changed,
        automatic_changed: !automatic.is_empty(),
        markdown: out,
    }
}
