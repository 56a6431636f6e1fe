//! What a lint run reports: the lints, their severities and the findings.

use std::fmt;

use crate::catalog::site_label;
use crate::definition::Site;

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

/// What [`Catalog::lint`](crate::Catalog::lint) checks.
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

/// One problem found by [`Catalog::lint`](crate::Catalog::lint), with the events and sites it concerns.
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
