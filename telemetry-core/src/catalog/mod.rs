//! The catalog of every event this binary can send, and the transparency document made from it.
//!
//! Every `#[track_event]` and `track!` registers an [`EventDef`] at compile time; the toolkit's
//! lifecycle events are registered the same way. [`catalog()`] collects them, merges the
//! declarations of one event name into one [`CatalogEvent`] with several [`Site`]s, and renders
//! the result as a document for the people whose usage is measured:
//!
//! - [`Catalog::to_markdown`]: a transparency document an end user can read (what is collected,
//!   what never is, how to opt out, every event with its properties);
//! - [`Catalog::to_json`]: the same facts as JSON, schema `telemetry-catalog/v1` (committed as
//!   `telemetry-core/schema/telemetry-catalog-v1.json`), for tools and reviewers.
//!
//! ```
//! let catalog = telemetry_core::catalog().with_app("timetracker", "1.4.0");
//! let markdown = catalog.to_markdown();
//! assert!(markdown.contains("DO_NOT_TRACK=1"));
//! let json: serde_json::Value = serde_json::from_str(&catalog.to_json()).unwrap();
//! assert_eq!(json["schema"], "telemetry-catalog/v1");
//! assert_eq!(json["app"]["version"], "1.4.0");
//! ```
//!
//! The documents a binary serves ([`exit_if_requested`]) and the ones its tests check
//! ([`assert_document_current`]) name the application but carry no version, so they change only
//! when the events change; see [`AppInfo`].
//!
//! # Keeping the committed document current
//!
//! Commit the document next to the application (for instance `TRACKED_EVENTS.md` and
//! `TRACKED_EVENTS.json`) and check it in an ordinary test of the crate that builds the binary:
//!
//! ```no_run
//! use telemetry_core::catalog::{Format, assert_document_current};
//!
//! #[test]
//! fn tracked_events_document_is_current() {
//!     assert_document_current("TRACKED_EVENTS.md", Format::Markdown);
//!     assert_document_current("TRACKED_EVENTS.json", Format::Json);
//! }
//! ```
//!
//! The flow is then:
//!
//! 1. annotate a handler with `#[track_event(...)]` (or change one: rename it, add a property);
//! 2. `cargo test` fails, printing a unified diff between the committed document and the one
//!    rendered from the code, and the exact command to refresh it;
//! 3. run that command, `TELEMETRY_CATALOG_BLESS=1 cargo test -p <your-crate>`, which rewrites
//!    the files instead of comparing them;
//! 4. review the diff and commit the document together with the code.
//!
//! The same check also fails on catalog lints of severity [`Severity::Error`] (two declarations
//! of one event that disagree, names that differ only by punctuation, placeholder descriptions,
//! ...), listing each finding with the sites it concerns; see [`Lint`].
//!
//! # Serving the document from the binary
//!
//! One line at the top of `main` lets anyone ask a built binary what it can send:
//!
//! ```no_run
//! // First thing in `main`:
//! telemetry_core::catalog::exit_if_requested(); // --telemetry-catalog=md|json, --telemetry-catalog-diff=OLD
//! // ... start the application ...
//! ```
//!
//! `myapp --telemetry-catalog` (Markdown), `--telemetry-catalog=json` or
//! `--telemetry-catalog json` print the document and exit with status 0 before anything else
//! runs; see [`exit_if_requested`].
//!
//! # Linking caveat
//!
//! The document comes from the binary that links the handlers. `inventory` collects what the
//! final binary (or test binary) links, so:
//!
//! - a library crate that the binary never names is not linked at all, and its events vanish
//!   from the catalog (they could never be sent either). Name it once, for instance with
//!   `use the_handlers_crate as _;` in `main.rs`;
//! - a document checked from an integration test of the application crate sees the events of
//!   the application's library target (the test links it), but not those declared only in
//!   `src/main.rs`: keep handlers in the library, or check from a unit test inside the binary.

mod app;
mod check;
mod cli;
mod diff;
mod diff_cli;
mod facts;
mod format;
mod json;
mod lint;
mod markdown;
// `--telemetry-catalog=push`: the catalog into PostHog (its event and property definitions).
#[cfg(feature = "posthog")]
mod push;

use std::collections::BTreeMap;
use std::path::Path;

use crate::definition::{EventDef, PropDef, Site, Trigger, registered};

pub use app::AppInfo;
pub use check::{BLESS_ENV, DocumentMismatch, assert_document_current, check_document};
pub use cli::{FLAG, UnknownFormat, exit_if_requested, exit_if_requested_with, parse_args};
pub use diff::{CatalogDiff, DIFF_FLAG, OldDocumentError, diff};
pub use format::Format;
pub use json::SCHEMA_NAME;
pub use lint::{Finding, Lint, Severity};

/// One event of the catalog: every declaration of one name, merged.
///
/// The description, trigger and properties are those of the first declaration in site order;
/// when the declarations disagree, [`Catalog::lint`] reports a
/// [`Lint::ConflictingDeclarations`] finding.
///
/// ```
/// let catalog = telemetry_core::catalog();
/// let install = catalog.entry("telemetry.install").unwrap();
/// assert_eq!(install.name, "telemetry.install");
/// assert!(!install.sites.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CatalogEvent {
    /// The event name, `resource.action`.
    pub name: &'static str,
    /// What the event means.
    pub description: &'static str,
    /// When it is captured.
    pub trigger: Trigger,
    /// Its declared properties, in declaration order.
    pub props: &'static [PropDef],
    /// Whether it carries a per-call subject, sent only as a salted hash, as its distinct id
    /// (otherwise the install's anonymous fingerprint is the distinct id).
    pub has_distinct_id: bool,
    /// Every place it is declared, in order.
    pub sites: Vec<Site>,
    /// Every declaration, in the order of `sites`.
    pub declarations: Vec<&'static EventDef>,
}

impl CatalogEvent {
    /// The part of the name before the first dot (`task` for `task.created`).
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// let install = catalog.entry("telemetry.install").unwrap();
    /// assert_eq!(install.resource(), "telemetry");
    /// ```
    pub fn resource(&self) -> &'static str {
        resource_of(self.name)
    }

    /// Whether this is one of the toolkit's own lifecycle events.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// assert!(catalog.entry("telemetry.health").unwrap().is_lifecycle());
    /// ```
    pub fn is_lifecycle(&self) -> bool {
        self.trigger == Trigger::Lifecycle
    }
}

pub(crate) fn resource_of(name: &str) -> &str {
    name.split_once('.').map_or(name, |(resource, _)| resource)
}

/// Every event this binary can send: the registered declarations, sorted by name.
///
/// Build it with [`catalog()`] (what the binary links) or [`Catalog::from_defs`] (a given set of
/// declarations, for tests and tools).
///
/// ```
/// let catalog = telemetry_core::catalog();
/// assert!(catalog.lifecycle_events().count() >= 3);
/// ```
#[derive(Debug, Clone)]
pub struct Catalog {
    events: Vec<&'static EventDef>,
    entries: Vec<CatalogEvent>,
    app: Option<AppInfo>,
}

impl Catalog {
    /// A catalog of exactly these declarations (duplicates of one `&'static` definition count
    /// once).
    ///
    /// ```
    /// use telemetry_core::{Catalog, EventDef, Site, Trigger};
    ///
    /// static SAVED: EventDef = EventDef {
    ///     name: "report.saved",
    ///     description: "A report was saved to disk.",
    ///     trigger: Trigger::Success,
    ///     props: &[],
    ///     has_distinct_id: false,
    ///     site: Site { module_path: "app::reports", function: "save", file: "src/reports.rs", line: 12 },
    /// };
    ///
    /// let catalog = Catalog::from_defs([&SAVED]);
    /// assert_eq!(catalog.entries().len(), 1);
    /// assert!(catalog.lint().is_empty());
    /// ```
    pub fn from_defs(defs: impl IntoIterator<Item = &'static EventDef>) -> Catalog {
        let mut events: Vec<&'static EventDef> = defs.into_iter().collect();
        events.sort_by(|a, b| a.name.cmp(b.name).then(a.site.cmp(&b.site)));
        events.dedup_by(|a, b| std::ptr::eq(*a, *b));
        let mut by_name: BTreeMap<&'static str, Vec<&'static EventDef>> = BTreeMap::new();
        for def in &events {
            by_name.entry(def.name).or_default().push(def);
        }
        let entries = by_name
            .into_iter()
            .map(|(name, declarations)| {
                let first = declarations[0];
                let mut sites: Vec<Site> = declarations.iter().map(|d| d.site).collect();
                sites.dedup();
                CatalogEvent {
                    name,
                    description: first.description,
                    trigger: first.trigger,
                    props: first.props,
                    has_distinct_id: first.has_distinct_id,
                    sites,
                    declarations,
                }
            })
            .collect();
        Catalog {
            events,
            entries,
            app: None,
        }
    }

    /// All declarations, sorted by name, then site. One event declared at two sites appears
    /// twice here; see [`Catalog::entries`] for the merged view.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// assert!(catalog.events().len() >= catalog.entries().len());
    /// ```
    pub fn events(&self) -> &[&'static EventDef] {
        &self.events
    }

    /// The events, one per name, sorted by name, the lifecycle events included.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// let names: Vec<_> = catalog.entries().iter().map(|e| e.name).collect();
    /// assert!(names.contains(&"telemetry.health"));
    /// assert!(names.windows(2).all(|w| w[0] < w[1]));
    /// ```
    pub fn entries(&self) -> &[CatalogEvent] {
        &self.entries
    }

    /// The event with this name, if any.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// assert_eq!(catalog.entry("telemetry.update").unwrap().name, "telemetry.update");
    /// assert!(catalog.entry("no.such_event").is_none());
    /// ```
    pub fn entry(&self, name: &str) -> Option<&CatalogEvent> {
        self.entries
            .binary_search_by(|e| e.name.cmp(name))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// The application's own events (everything but the lifecycle events), sorted by name.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// assert!(catalog.app_events().all(|e| !e.is_lifecycle()));
    /// ```
    pub fn app_events(&self) -> impl Iterator<Item = &CatalogEvent> {
        self.entries.iter().filter(|e| !e.is_lifecycle())
    }

    /// The toolkit's lifecycle events, sorted by name.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog();
    /// let names: Vec<_> = catalog.lifecycle_events().map(|e| e.name).collect();
    /// assert_eq!(names, ["telemetry.health", "telemetry.install", "telemetry.update"]);
    /// ```
    pub fn lifecycle_events(&self) -> impl Iterator<Item = &CatalogEvent> {
        self.entries.iter().filter(|e| e.is_lifecycle())
    }

    /// The same catalog, describing the application `name` at `version`.
    ///
    /// ```
    /// let catalog = telemetry_core::catalog().with_app("timetracker", "1.4.0");
    /// assert_eq!(catalog.app().name, "timetracker");
    /// ```
    pub fn with_app(self, name: impl Into<String>, version: impl Into<String>) -> Catalog {
        self.with_app_info(AppInfo::new(name, version))
    }

    /// The same catalog, describing `app`.
    ///
    /// ```
    /// use telemetry_core::catalog::AppInfo;
    /// let catalog = telemetry_core::catalog().with_app_info(AppInfo::named("timetracker"));
    /// assert_eq!(catalog.app(), AppInfo::named("timetracker"));
    /// ```
    pub fn with_app_info(mut self, app: AppInfo) -> Catalog {
        self.app = Some(app);
        self
    }

    /// The application the documents describe: the one set with [`Catalog::with_app`], else
    /// [`AppInfo::from_current_exe`].
    ///
    /// ```
    /// let catalog = telemetry_core::catalog().with_app("timetracker", "1.4.0");
    /// assert_eq!(catalog.app().version.as_deref(), Some("1.4.0"));
    /// ```
    pub fn app(&self) -> AppInfo {
        self.app.clone().unwrap_or_else(AppInfo::from_current_exe)
    }

    pub(crate) fn has_app(&self) -> bool {
        self.app.is_some()
    }

    /// Checks the catalog; see [`Lint`] for what is reported. Sorted errors first, then by event
    /// name. A finding of severity [`Severity::Error`] fails [`Catalog::check_document`].
    ///
    /// ```
    /// use telemetry_core::catalog::{Lint, Severity};
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
    /// let findings = Catalog::from_defs([&SAVED]).lint();
    /// assert_eq!(findings[0].lint, Lint::PlaceholderDescription);
    /// assert_eq!(findings[0].severity(), Severity::Error);
    /// assert!(findings[0].to_string().starts_with("error[placeholder-description]: `report.saved`"));
    /// ```
    pub fn lint(&self) -> Vec<Finding> {
        lint::lint(self)
    }

    /// The JSON document (schema `telemetry-catalog/v1`): pretty-printed, keys in a fixed order,
    /// ending with a newline.
    ///
    /// ```
    /// let json: serde_json::Value = serde_json::from_str(&telemetry_core::catalog().to_json()).unwrap();
    /// assert_eq!(json["schema"], "telemetry-catalog/v1");
    /// ```
    pub fn to_json(&self) -> String {
        json::render(self)
    }

    /// The Markdown transparency document for end users. Deterministic.
    ///
    /// ```
    /// let markdown = telemetry_core::catalog().with_app("timetracker", "1.4.0").to_markdown();
    /// assert!(markdown.contains("telemetry.install"));
    /// ```
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// The document in `format`.
    ///
    /// ```
    /// use telemetry_core::catalog::Format;
    /// let catalog = telemetry_core::catalog().with_app("app", "1.0.0");
    /// assert_eq!(catalog.render(Format::Json), catalog.to_json());
    /// ```
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Markdown => self.to_markdown(),
            Format::Json => self.to_json(),
        }
    }

    /// Compares the committed document at `path` with this catalog rendered as `format`;
    /// with `TELEMETRY_CATALOG_BLESS=1` in the environment, (re)writes the file instead.
    ///
    /// A relative `path` is resolved against `CARGO_MANIFEST_DIR` when cargo set it (as
    /// `cargo test` does), so the check works from any working directory. Fails when the file is
    /// missing or stale, or when the catalog has lint errors. Warnings are printed to stderr.
    /// Without [`Catalog::with_app`], the document describes [`AppInfo::from_cargo_env`].
    ///
    /// ```
    /// use telemetry_core::catalog::Format;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("TRACKED_EVENTS.json");
    /// // A catalog of no events, for the example; a test checks `telemetry_core::catalog()`.
    /// let catalog = telemetry_core::Catalog::from_defs([]).with_app("timetracker", "1.4.0");
    /// std::fs::write(&path, catalog.to_json()).unwrap();
    /// assert!(catalog.check_document(&path, Format::Json).is_ok());
    /// ```
    pub fn check_document(
        &self,
        path: impl AsRef<Path>,
        format: Format,
    ) -> Result<(), DocumentMismatch> {
        check::check(self, path.as_ref(), format, check::bless_requested())
    }

    /// [`Catalog::check_document`], panicking with the mismatch (a unified diff, or the lint
    /// findings, and the command that refreshes the file).
    ///
    /// ```
    /// use telemetry_core::catalog::Format;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("TRACKED_EVENTS.md");
    /// // A catalog of no events, for the example; a test checks `telemetry_core::catalog()`.
    /// let catalog = telemetry_core::Catalog::from_defs([]).with_app("timetracker", "1.4.0");
    /// std::fs::write(&path, catalog.to_markdown()).unwrap();
    /// catalog.assert_document_current(&path, Format::Markdown); // panics with a diff when stale
    /// ```
    #[track_caller]
    pub fn assert_document_current(&self, path: impl AsRef<Path>, format: Format) {
        if let Err(mismatch) = self.check_document(path, format) {
            panic!("{mismatch}");
        }
    }
}

/// Collects the catalog of this binary: every event registered by the code it links, the
/// toolkit's lifecycle events included, sorted by name.
///
/// ```
/// let catalog = telemetry_core::catalog();
/// assert!(catalog.entry("telemetry.install").is_some());
/// ```
pub fn catalog() -> Catalog {
    Catalog::from_defs(registered())
}

/// The path of a declaration's file relative to its crate: `file!()` gives
/// `examples/timetracker/src/handlers.rs` in a workspace, `src/handlers.rs` in a lone crate and
/// an absolute path for a dependency; all become `src/handlers.rs`.
///
/// The crate directory is taken to end before the last `src` segment, else the last `tests`,
/// `benches` or `examples` segment.
pub(crate) fn crate_relative_file(file: &str) -> String {
    let normalized = file.replace('\\', "/");
    let segments: Vec<&str> = normalized.split('/').collect();
    let dirs = &segments[..segments.len().saturating_sub(1)];
    for marker in ["src", "tests", "benches", "examples"] {
        if let Some(i) = dirs.iter().rposition(|s| *s == marker) {
            return segments[i..].join("/");
        }
    }
    normalized
        .trim_start_matches("./")
        .trim_start_matches('/')
        .to_owned()
}

/// `file:line` of a site, relative to its crate, for messages.
pub(crate) fn site_location(site: &Site) -> String {
    format!("{}:{}", crate_relative_file(site.file), site.line)
}

/// `file:line (module::function)` of a site, for messages.
pub(crate) fn site_label(site: &Site) -> String {
    let mut label = site_location(site);
    if !site.function.is_empty() {
        label.push_str(&format!(" ({}::{})", site.module_path, site.function));
    } else if !site.module_path.is_empty() {
        label.push_str(&format!(" ({})", site.module_path));
    }
    label
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::definition::{EventDef, PropDef, Site, Trigger};

    /// A leaked `&'static EventDef`, for catalogs built in unit tests.
    pub fn def(
        name: &'static str,
        description: &'static str,
        trigger: Trigger,
        props: Vec<PropDef>,
        file: &'static str,
        line: u32,
    ) -> &'static EventDef {
        Box::leak(Box::new(EventDef {
            name,
            description,
            trigger,
            props: Box::leak(props.into_boxed_slice()),
            has_distinct_id: false,
            site: Site {
                module_path: "app::handlers",
                function: "handler",
                file,
                line,
            },
        }))
    }
}

#[cfg(test)]
mod tests;
