//! Event definitions: the static data every `#[track_event]` and `track!` registers.
//!
//! The macros write one [`EventDef`] per use site into a `static` and submit a pointer to it with
//! `inventory`, so the catalog knows every event whether or not its handler ever runs.

use crate::property::ValueKind;

/// When a `#[track_event]` function captures its event.
///
/// ```
/// use telemetry_core::{Trigger, track_event};
///
/// /// A backup was restored.
/// #[track_event("backup.restored", on = "success")]
/// fn restore() -> Result<(), String> { Ok(()) }
///
/// let catalog = telemetry_core::catalog();
/// assert_eq!(catalog.entry("backup.restored").unwrap().trigger, Trigger::Success);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// On entry, before the body runs.
    Call,
    /// After the body, whatever it returned (the default).
    Return,
    /// After the body, only when the return value counts as success.
    Success,
    /// After the body, only when the return value counts as failure.
    Failure,
    /// Inside a body, where `track!` is written.
    Inline,
    /// Sent by the toolkit itself (install, update, health).
    Lifecycle,
}

impl Trigger {
    /// The name used in `on = "..."` and in the catalog.
    ///
    /// ```
    /// assert_eq!(telemetry_core::Trigger::Success.as_str(), "success");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Trigger::Call => "call",
            Trigger::Return => "return",
            Trigger::Success => "success",
            Trigger::Failure => "failure",
            Trigger::Inline => "inline",
            Trigger::Lifecycle => "lifecycle",
        }
    }

    /// A sentence for the transparency document.
    ///
    /// ```
    /// assert_eq!(telemetry_core::Trigger::Failure.describe(), "when the action fails");
    /// ```
    pub const fn describe(self) -> &'static str {
        match self {
            Trigger::Call => "when the action starts",
            Trigger::Return => "when the action finishes, whatever its outcome",
            Trigger::Success => "when the action succeeds",
            Trigger::Failure => "when the action fails",
            Trigger::Inline => "at a specific point inside the action",
            Trigger::Lifecycle => "sent by the toolkit itself",
        }
    }
}

/// What a property means for privacy, shown in the catalog.
///
/// ```
/// use telemetry_core::{Classification, PropDef, ValueKind};
/// let prop = PropDef::new("num_rows", "u64", ValueKind::Integer, &[]);
/// assert_eq!(prop.classification, Classification::Measurement);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// A pseudonymous identifier: sent only as a salted SHA-256.
    Pseudonymous,
    /// A record identifier (a number that means nothing outside the app's database).
    Identifier,
    /// A yes/no flag.
    Flag,
    /// A count or amount.
    Measurement,
    /// A duration.
    Timing,
    /// One of a fixed set of values.
    Category,
    /// Set by the toolkit about the app or the machine, not the user.
    Technical,
}

impl Classification {
    /// The lowercase name used in the catalog.
    ///
    /// ```
    /// assert_eq!(telemetry_core::Classification::Pseudonymous.as_str(), "pseudonymous");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Classification::Pseudonymous => "pseudonymous",
            Classification::Identifier => "identifier",
            Classification::Flag => "flag",
            Classification::Measurement => "measurement",
            Classification::Timing => "timing",
            Classification::Category => "category",
            Classification::Technical => "technical",
        }
    }

    /// Derives the classification from a property's kind and name.
    ///
    /// ```
    /// use telemetry_core::{Classification, ValueKind};
    /// assert_eq!(Classification::infer(ValueKind::Integer, "project_id"), Classification::Identifier);
    /// assert_eq!(Classification::infer(ValueKind::Integer, "num_rows"), Classification::Measurement);
    /// ```
    pub const fn infer(kind: ValueKind, name: &str) -> Classification {
        match kind {
            ValueKind::Hashed => Classification::Pseudonymous,
            ValueKind::Boolean => Classification::Flag,
            ValueKind::Duration => Classification::Timing,
            ValueKind::Enum => Classification::Category,
            ValueKind::Integer | ValueKind::Float | ValueKind::Unspecified => {
                if ends_with(name, "_id") || eq(name, "id") {
                    Classification::Identifier
                } else if ends_with(name, "_seconds")
                    || ends_with(name, "_ms")
                    || ends_with(name, "_secs")
                    || starts_with(name, "duration")
                {
                    Classification::Timing
                } else if starts_with(name, "has_") || starts_with(name, "is_") {
                    Classification::Flag
                } else {
                    Classification::Measurement
                }
            }
        }
    }
}

const fn eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn ends_with(s: &str, suffix: &str) -> bool {
    let (s, x) = (s.as_bytes(), suffix.as_bytes());
    if x.len() > s.len() {
        return false;
    }
    let off = s.len() - x.len();
    let mut i = 0;
    while i < x.len() {
        if s[off + i] != x[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, x) = (s.as_bytes(), prefix.as_bytes());
    if x.len() > s.len() {
        return false;
    }
    let mut i = 0;
    while i < x.len() {
        if s[i] != x[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// One declared property of an event.
///
/// ```
/// use telemetry_core::{PropertyValue, track_event};
///
/// #[derive(PropertyValue)]
/// enum Format { Csv, Json }
///
/// /// A report was downloaded.
/// #[track_event("report.downloaded", props(format = format))]
/// fn download(format: Format) {}
///
/// let catalog = telemetry_core::catalog();
/// let prop = &catalog.entry("report.downloaded").unwrap().props[0];
/// assert_eq!((prop.name, prop.variants), ("format", &["csv", "json"][..]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropDef {
    /// The property name (snake_case).
    pub name: &'static str,
    /// The Rust type as written or inferred by the macro (`"u64"`, `"Hashed"`, `""` if unknown).
    pub rust_type: &'static str,
    /// The value kind.
    pub kind: ValueKind,
    /// The allowed values of an enum property, if known.
    pub variants: &'static [&'static str],
    /// The privacy classification.
    pub classification: Classification,
    /// What the property means, for toolkit-added properties; empty for declared ones.
    pub description: &'static str,
}

impl PropDef {
    /// Whether the toolkit sends this value only as a salted hash.
    ///
    /// ```
    /// # use telemetry_core::{PropDef, Classification, ValueKind};
    /// let p = PropDef::new("user", "Hashed", ValueKind::Hashed, &[]);
    /// assert!(p.is_hashed());
    /// assert_eq!(p.classification, Classification::Pseudonymous);
    /// ```
    pub const fn is_hashed(&self) -> bool {
        matches!(self.kind, ValueKind::Hashed)
    }

    /// A property with its classification inferred from kind and name.
    ///
    /// ```
    /// use telemetry_core::{Classification, PropDef, ValueKind};
    /// let prop = PropDef::new("has_invoice", "bool", ValueKind::Boolean, &[]);
    /// assert_eq!(prop.classification, Classification::Flag);
    /// ```
    pub const fn new(
        name: &'static str,
        rust_type: &'static str,
        kind: ValueKind,
        variants: &'static [&'static str],
    ) -> PropDef {
        PropDef {
            name,
            rust_type,
            kind,
            variants,
            classification: Classification::infer(kind, name),
            description: "",
        }
    }
}

/// Where an event is declared in the source.
///
/// ```
/// use telemetry_core::track_event;
///
/// /// A timer was started.
/// #[track_event("timer.started")]
/// fn start_timer() {}
///
/// let catalog = telemetry_core::catalog();
/// let site = catalog.entry("timer.started").unwrap().sites[0];
/// assert_eq!(site.function, "start_timer");
/// assert!(site.line > 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// `module_path!()` of the declaration.
    pub module_path: &'static str,
    /// The annotated function, or the function containing `track!` (empty if unknown).
    pub function: &'static str,
    /// `file!()` of the declaration.
    pub file: &'static str,
    /// `line!()` of the declaration.
    pub line: u32,
}

/// Everything the catalog knows about one declaration of an event.
///
/// ```
/// use telemetry_core::track_event;
///
/// /// An invoice was sent to a customer.
/// #[track_event("invoice.sent", distinct_id = customer_id, props(amount_cents = cents))]
/// fn send_invoice(customer_id: u64, cents: u64) {}
///
/// let catalog = telemetry_core::catalog();
/// let def = catalog.events().iter().find(|e| e.name == "invoice.sent").unwrap();
/// assert_eq!(def.description, "An invoice was sent to a customer.");
/// assert!(def.has_distinct_id);
/// assert_eq!(def.props[0].name, "amount_cents");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventDef {
    /// The event name, `resource.action`.
    pub name: &'static str,
    /// The description (first doc paragraph or `description = "..."`).
    pub description: &'static str,
    /// When it is captured.
    pub trigger: Trigger,
    /// Declared properties, in declaration order.
    pub props: &'static [PropDef],
    /// Whether the event carries a per-call `distinct_id` (sent hashed).
    pub has_distinct_id: bool,
    /// Where it is declared.
    pub site: Site,
}

/// The `inventory` item behind the catalog. Public only for the macros.
#[doc(hidden)]
pub struct Registration(pub &'static EventDef);

inventory::collect!(Registration);

/// Iterates over every registered declaration linked into this binary, in no particular order.
pub(crate) fn registered() -> impl Iterator<Item = &'static EventDef> {
    inventory::iter::<Registration>.into_iter().map(|r| r.0)
}
