//! Event and property name rules of `telemetry-core`, checked at compile time by its macros
//! (`#[track_event]`, `track!`, `#[derive(PropertyValue)]`) and at run time by its catalog.
//!
//! One home for the rules: the proc-macro crate and the runtime both depend on this crate, so a
//! name is judged the same way in both places. It uses nothing but `std`, so depending on it
//! costs one small crate. Use it as `telemetry_core::naming`.
//!
//! ```
//! use telemetry_naming::{check_event_name, check_property_name, NameErrorKind};
//!
//! assert!(check_event_name("timer.stopped").is_ok());
//! assert_eq!(check_event_name("Timer.Stopped").unwrap_err().kind, NameErrorKind::Uppercase);
//! assert!(check_property_name("project_id").is_ok());
//! assert_eq!(check_property_name("email").unwrap_err().kind, NameErrorKind::PersonalData);
//! ```

use std::fmt;

/// The longest accepted event name, in bytes (event names are ASCII).
pub const MAX_EVENT_NAME_LEN: usize = 64;

/// The prefix of the toolkit's own lifecycle events (`telemetry.install`, ...).
pub const RESERVED_PREFIX: &str = "telemetry.";

/// Which rule a name breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameErrorKind {
    /// The name is empty.
    Empty,
    /// The event name is longer than [`MAX_EVENT_NAME_LEN`].
    TooLong,
    /// The event name starts with `$`, which PostHog reserves for its own events.
    PostHogReserved,
    /// The event name starts with [`RESERVED_PREFIX`].
    Reserved,
    /// The event name contains an uppercase letter.
    Uppercase,
    /// The event name is not lowercase `resource.action` segments.
    Grammar,
    /// The property name is not snake_case (`^[a-z][a-z0-9_]*$`).
    NotSnakeCase,
    /// The property name denotes personal data.
    PersonalData,
}

/// Why a name was rejected, with a hint how to fix it.
///
/// ```
/// let err = telemetry_naming::check_event_name("timerStopped").unwrap_err();
/// assert!(err.message.contains("`timerStopped`"));
/// assert!(!err.hint.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// Which rule was broken.
    pub kind: NameErrorKind,
    /// What is wrong, one sentence naming the offending name.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl NameError {
    fn new(kind: NameErrorKind, message: String, hint: String) -> NameError {
        NameError {
            kind,
            message,
            hint,
        }
    }
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (help: {})", self.message, self.hint)
    }
}

impl std::error::Error for NameError {}

/// Checks an event name: lowercase `resource.action` segments matching
/// `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`, at most 64 characters, not starting with `$`
/// (PostHog's) or `telemetry.` (the toolkit's).
///
/// ```
/// use telemetry_naming::{check_event_name, NameErrorKind};
///
/// assert!(check_event_name("invoice.exported").is_ok());
/// assert!(check_event_name("project.member.added").is_ok());
/// assert_eq!(check_event_name("exported").unwrap_err().kind, NameErrorKind::Grammar);
/// assert_eq!(check_event_name("$pageview").unwrap_err().kind, NameErrorKind::PostHogReserved);
/// assert_eq!(check_event_name("telemetry.install").unwrap_err().kind, NameErrorKind::Reserved);
/// ```
pub fn check_event_name(name: &str) -> Result<(), NameError> {
    const EXAMPLE: &str = "use lowercase `resource.action` segments, e.g. `timer.stopped`";
    if name.is_empty() {
        return Err(NameError::new(
            NameErrorKind::Empty,
            "the event name is empty".into(),
            EXAMPLE.into(),
        ));
    }
    if name.starts_with('$') {
        return Err(NameError::new(
            NameErrorKind::PostHogReserved,
            format!("event names starting with `$` are reserved by PostHog: `{name}`"),
            format!(
                "name your own event, e.g. `{}`",
                suggest_event_name(name).as_deref().unwrap_or("page.viewed")
            ),
        ));
    }
    if name.len() > MAX_EVENT_NAME_LEN {
        return Err(NameError::new(
            NameErrorKind::TooLong,
            format!(
                "the event name `{name}` is {} characters long, the limit is {MAX_EVENT_NAME_LEN}",
                name.len()
            ),
            "shorten it: the name says what happened, the properties carry the details".into(),
        ));
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(NameError::new(
            NameErrorKind::Uppercase,
            format!("the event name `{name}` contains uppercase letters"),
            suggestion_or(suggest_event_name(name), EXAMPLE),
        ));
    }
    if let Some(problem) = event_grammar_problem(name) {
        return Err(NameError::new(
            NameErrorKind::Grammar,
            format!("the event name `{name}` {problem}"),
            suggestion_or(suggest_event_name(name), EXAMPLE),
        ));
    }
    if name.starts_with(RESERVED_PREFIX) {
        return Err(NameError::new(
            NameErrorKind::Reserved,
            format!(
                "the `{RESERVED_PREFIX}` prefix is reserved for the toolkit's own events: `{name}`"
            ),
            "use your product's own resource as the first segment, e.g. `project.created`".into(),
        ));
    }
    Ok(())
}

/// Checks a property name: snake_case (`^[a-z][a-z0-9_]*$`) and not a name that denotes personal
/// data (see [`personal_data`]).
///
/// ```
/// use telemetry_naming::{check_property_name, NameErrorKind};
///
/// assert!(check_property_name("duration_seconds").is_ok());
/// assert!(check_property_name("has_email").is_ok()); // a flag, not the address
/// let err = check_property_name("projectId").unwrap_err();
/// assert_eq!(err.kind, NameErrorKind::NotSnakeCase);
/// assert!(err.hint.contains("`project_id`"));
/// assert_eq!(check_property_name("user_name").unwrap_err().kind, NameErrorKind::PersonalData);
/// ```
pub fn check_property_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::new(
            NameErrorKind::Empty,
            "the property name is empty".into(),
            "name it in snake_case, e.g. `project_id`".into(),
        ));
    }
    if !is_snake_case(name) {
        let suggestion = to_snake_case(name);
        let hint = if is_snake_case(&suggestion) {
            format!("write it in snake_case: `{suggestion}`")
        } else {
            "write it in snake_case: a lowercase letter, then lowercase letters, digits and `_`"
                .into()
        };
        return Err(NameError::new(
            NameErrorKind::NotSnakeCase,
            format!("the property name `{name}` is not snake_case"),
            hint,
        ));
    }
    if let Some(rule) = personal_data::matched_rule(name) {
        return Err(NameError::new(
            NameErrorKind::PersonalData,
            format!("the property name `{name}` denotes personal data ({rule})"),
            format!(
                "send an identifier as `Hashed(...)` of an id (e.g. `user_id = Hashed(user.id)`) \
                 or a flag such as `has_{}`; never the value itself",
                personal_data::flag_stem(name)
            ),
        ));
    }
    Ok(())
}

/// Whether `name` matches `^[a-z][a-z0-9_]*$`.
///
/// ```
/// assert!(telemetry_naming::is_snake_case("rows_2"));
/// assert!(!telemetry_naming::is_snake_case("_rows"));
/// ```
pub fn is_snake_case(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

/// Whether the property `name` is a flag (`has_*`, `is_*`), whose value must be a `bool`.
///
/// A flag says whether something exists or holds (`has_email`), never what it is; a number or
/// text under such a name would carry the very value the name promises to leave out.
///
/// ```
/// assert!(telemetry_naming::is_flag("has_email"));
/// assert!(telemetry_naming::is_flag("is_first_run"));
/// assert!(!telemetry_naming::is_flag("hash_count"));
/// ```
pub fn is_flag(name: &str) -> bool {
    personal_data::FLAG_PREFIXES
        .iter()
        .any(|prefix| name.len() > prefix.len() && name.starts_with(prefix))
}

/// The help line for a flag property whose value is not a `bool`.
///
/// ```
/// assert!(telemetry_naming::flag_hint("has_email").contains("has_email = "));
/// ```
pub fn flag_hint(name: &str) -> String {
    format!(
        "`{name}` is a flag: give it a bool, e.g. `{name} = value.is_some()`, or rename the \
         property if it is not a yes/no value"
    )
}

/// Converts `CamelCase`, `camelCase`, `kebab-case` or `Spaced Words` to `snake_case`.
///
/// Used for enum variant values and for the suggestions in error hints.
///
/// ```
/// use telemetry_naming::to_snake_case;
/// assert_eq!(to_snake_case("ExcelXlsx"), "excel_xlsx");
/// assert_eq!(to_snake_case("HTTPServer"), "http_server");
/// assert_eq!(to_snake_case("projectId"), "project_id");
/// assert_eq!(to_snake_case("user-agent"), "user_agent");
/// ```
pub fn to_snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && i > 0 {
                let prev = chars[i - 1];
                let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
                // `fooBar` -> `foo_bar`; `HTTPServer` -> `http_server` (break before `Se`).
                if prev.is_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_uppercase() && next_is_lower)
                {
                    out.push('_');
                }
            }
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// What is wrong with the `resource.action` grammar of a lowercase name, if anything.
fn event_grammar_problem(name: &str) -> Option<String> {
    if !name.contains('.') {
        return Some("needs at least two dot-separated segments (`resource.action`)".into());
    }
    for segment in name.split('.') {
        let Some(first) = segment.chars().next() else {
            return Some(
                "has an empty segment (check for a leading, trailing or double `.`)".into(),
            );
        };
        if !first.is_ascii_lowercase() {
            return Some(format!(
                "has a segment `{segment}` that does not start with a lowercase letter"
            ));
        }
        if let Some(bad) = segment
            .chars()
            .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_'))
        {
            return Some(format!(
                "contains `{bad}`: segments hold only lowercase letters, digits and `_`"
            ));
        }
    }
    None
}

/// A corrected event name, when a mechanical fix yields a valid one.
fn suggest_event_name(name: &str) -> Option<String> {
    let candidate = name
        .trim_start_matches('$')
        .split(['.', ':', '/'])
        .map(to_snake_case)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    let valid = candidate.len() <= MAX_EVENT_NAME_LEN
        && event_grammar_problem(&candidate).is_none()
        && !candidate.starts_with(RESERVED_PREFIX);
    (valid && candidate != name).then_some(candidate)
}

fn suggestion_or(suggestion: Option<String>, fallback: &str) -> String {
    match suggestion {
        Some(s) => format!("write it as `{s}`"),
        None => fallback.into(),
    }
}

pub mod personal_data;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_resource_action_names() {
        for name in [
            "timer.stopped",
            "invoice.exported",
            "a.b",
            "project.member_2.added",
            "x1.y_z",
        ] {
            assert_eq!(check_event_name(name), Ok(()), "{name}");
        }
        let longest = format!("a.{}", "b".repeat(MAX_EVENT_NAME_LEN - 2));
        assert_eq!(check_event_name(&longest), Ok(()));
    }

    #[test]
    fn rejects_event_names_with_the_right_kind() {
        let cases = [
            ("", NameErrorKind::Empty),
            ("timer", NameErrorKind::Grammar),
            ("timer.", NameErrorKind::Grammar),
            (".timer", NameErrorKind::Grammar),
            ("timer..stopped", NameErrorKind::Grammar),
            ("timer.1stopped", NameErrorKind::Grammar),
            ("timer._stopped", NameErrorKind::Grammar),
            ("timer-stopped.now", NameErrorKind::Grammar),
            ("timer.stopped ", NameErrorKind::Grammar),
            ("timér.stopped", NameErrorKind::Grammar),
            ("Timer.stopped", NameErrorKind::Uppercase),
            ("$pageview", NameErrorKind::PostHogReserved),
            ("$set.x", NameErrorKind::PostHogReserved),
            ("telemetry.install", NameErrorKind::Reserved),
            ("telemetry.custom_thing", NameErrorKind::Reserved),
        ];
        for (name, kind) in cases {
            assert_eq!(check_event_name(name).unwrap_err().kind, kind, "{name:?}");
        }
        let too_long = format!("a.{}", "b".repeat(MAX_EVENT_NAME_LEN - 1));
        assert_eq!(
            check_event_name(&too_long).unwrap_err().kind,
            NameErrorKind::TooLong
        );
    }

    #[test]
    fn event_name_hints_suggest_a_fix() {
        let err = check_event_name("Timer.Stopped").unwrap_err();
        assert_eq!(err.hint, "write it as `timer.stopped`");
        let err = check_event_name("invoiceExported.now").unwrap_err();
        assert_eq!(err.kind, NameErrorKind::Uppercase);
        assert_eq!(err.hint, "write it as `invoice_exported.now`");
        let err = check_event_name("timer-stopped.x").unwrap_err();
        assert_eq!(err.hint, "write it as `timer_stopped.x`");
        // No mechanical fix: the generic example.
        let err = check_event_name("timer").unwrap_err();
        assert!(err.hint.contains("resource.action"), "{}", err.hint);
        assert!(err.message.contains("segments"));
    }

    #[test]
    fn property_names_are_snake_case() {
        assert_eq!(check_property_name("project_id"), Ok(()));
        assert_eq!(check_property_name("rows2"), Ok(()));
        let err = check_property_name("projectId").unwrap_err();
        assert_eq!(err.kind, NameErrorKind::NotSnakeCase);
        assert_eq!(err.hint, "write it in snake_case: `project_id`");
        let err = check_property_name("_hidden").unwrap_err();
        assert_eq!(err.kind, NameErrorKind::NotSnakeCase);
        assert_eq!(err.hint, "write it in snake_case: `hidden`");
        assert_eq!(
            check_property_name("2fa").unwrap_err().kind,
            NameErrorKind::NotSnakeCase
        );
        assert_eq!(
            check_property_name("").unwrap_err().kind,
            NameErrorKind::Empty
        );
    }

    #[test]
    fn every_exact_personal_data_name_is_rejected() {
        for name in personal_data::EXACT {
            let err = check_property_name(name).unwrap_err();
            assert_eq!(err.kind, NameErrorKind::PersonalData, "{name}");
            assert!(err.hint.contains("Hashed("), "{name}: {}", err.hint);
        }
    }

    #[test]
    fn personal_data_families_are_rejected() {
        for name in [
            "user_email",
            "emails_sent",
            "new_password_hint",
            "client_secret",
            "csrf_token",
            "phone_country",
            "project_name",
            "job_title",
            "billing_address",
            "work_email",
        ] {
            assert!(personal_data::is_personal_data(name), "{name}");
        }
        for name in [
            "project_id",
            "has_email",
            "is_password_set",
            "has_display_name",
            "duration_seconds",
            "format",
            "names_count_is_not_a_suffix",
        ] {
            assert!(!personal_data::is_personal_data(name), "{name}");
        }
    }

    #[test]
    fn the_contracts_personal_data_names_are_rejected() {
        // Written out from CONTRACT.md ("Declaring events"), not taken from the lists above.
        for name in [
            "email",
            "username",
            "user_name",
            "name",
            "first_name",
            "last_name",
            "full_name",
            "fullname",
            "surname",
            "nickname",
            "phone",
            "address",
            "password",
            "token",
            "secret",
            "api_key",
            "ip",
            "ip_address",
            "client_ip",
            "remote_addr",
            "host",
            "hostname",
            "mac",
            "lat",
            "lng",
            "latitude",
            "longitude",
            "geo",
            "location",
            "city",
            "zip",
            "postcode",
        ] {
            let err = check_property_name(name).unwrap_err();
            assert_eq!(err.kind, NameErrorKind::PersonalData, "{name}");
        }
        for name in [
            "server_hostname",
            "user_ip",
            "peer_addr",
            "home_city",
            "billing_zip",
            "geo_region",
            "ip_country",
            "db_host",
            "start_latitude",
            "aws_credentials",
        ] {
            assert!(personal_data::is_personal_data(name), "{name}");
        }
        for name in [
            "hosted",
            "ghost_mode",
            "zip_count",
            "city_count_total",
            "skip_ip6",
        ] {
            assert!(!personal_data::is_personal_data(name), "{name}");
        }
    }

    #[test]
    fn flags_are_has_and_is_names() {
        for name in ["has_email", "is_admin", "has_2fa"] {
            assert!(is_flag(name), "{name}");
        }
        for name in ["has_", "is_", "hash", "island", "this_is_x", "email"] {
            assert!(!is_flag(name), "{name}");
        }
        assert!(flag_hint("is_admin").contains("bool"));
    }

    #[test]
    fn personal_data_hint_suggests_a_flag() {
        let err = check_property_name("user_email").unwrap_err();
        assert!(err.hint.contains("`has_email`"), "{}", err.hint);
        assert!(err.message.contains("contains `email`"), "{}", err.message);
        let err = check_property_name("ip").unwrap_err();
        assert!(err.hint.contains("`has_ip`"), "{}", err.hint);
    }

    #[test]
    fn snake_case_conversion() {
        for (input, expected) in [
            ("Csv", "csv"),
            ("ExcelXlsx", "excel_xlsx"),
            ("HTTPServer", "http_server"),
            ("V2Api", "v2_api"),
            ("Pdf2", "pdf2"),
            ("already_snake", "already_snake"),
            ("kebab-case", "kebab_case"),
            ("Two  Words", "two_words"),
            ("__x__", "x"),
        ] {
            assert_eq!(to_snake_case(input), expected, "{input}");
        }
    }
}
