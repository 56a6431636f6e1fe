//! Property names that denote personal data, rejected by [`check_property_name`](crate::check_property_name).
//!
//! A product analytics event says *what* happened, never *who* it happened to: an identifier is
//! sent as `Hashed(id)` and the presence of a value as a flag (`has_email`).

/// Names rejected exactly: people, secrets, network and device identity, location, and
/// free text.
pub const EXACT: &[&str] = &[
    // People.
    "name",
    "username",
    "user_name",
    "login",
    "first_name",
    "last_name",
    "full_name",
    "fullname",
    "surname",
    "nickname",
    "display_name",
    "email",
    "e_mail",
    "email_address",
    "phone",
    "phone_number",
    "mobile",
    "address",
    "street",
    "ssn",
    "birthday",
    "birthdate",
    "date_of_birth",
    "dob",
    "gender",
    "credit_card",
    "card_number",
    "iban",
    // Secrets.
    "password",
    "passwd",
    "token",
    "access_token",
    "refresh_token",
    "secret",
    "api_key",
    "apikey",
    "private_key",
    "cookie",
    // Network and device identity.
    "ip",
    "ip_address",
    "client_ip",
    "remote_ip",
    "remote_addr",
    "remote_address",
    "host",
    "hostname",
    "mac",
    "mac_address",
    "user_agent",
    "device_id",
    "imei",
    // Location.
    "location",
    "geo",
    "geolocation",
    "lat",
    "lng",
    "lon",
    "latitude",
    "longitude",
    "coordinates",
    "city",
    "zip",
    "zipcode",
    "zip_code",
    "postcode",
    "postal_code",
    // Free text.
    "filename",
    "file_name",
    "notes",
    "note",
    "title",
    "message",
    "comment",
];

/// Names containing one of these anywhere are rejected.
pub const CONTAINS: &[&str] = &[
    "email",
    "password",
    "secret",
    "token",
    "phone",
    "api_key",
    "credential",
    "latitude",
    "longitude",
    "hostname",
    "surname",
    "nickname",
    "fullname",
];

/// Names ending with one of these are rejected.
pub const SUFFIXES: &[&str] = &[
    "_name",
    "_title",
    "_email",
    "_address",
    "_addr",
    "_ip",
    "_host",
    "_mac",
    "_lat",
    "_lng",
    "_zip",
    "_postcode",
    "_city",
    "_location",
];

/// Names starting with one of these are rejected.
pub const PREFIXES: &[&str] = &["ip_", "geo_", "gps_"];

/// Prefixes of boolean flags (`has_email`, `is_password_set`): they say whether a value
/// exists, not what it is, so only the exact list applies to them. Their value must be a
/// `bool` (see [`is_flag`](crate::is_flag)).
pub const FLAG_PREFIXES: &[&str] = &["has_", "is_"];

/// The rule `name` breaks, described for an error message; `None` if it is acceptable.
///
/// ```
/// use telemetry_naming::personal_data::matched_rule;
/// assert_eq!(matched_rule("project_id"), None);
/// assert_eq!(matched_rule("ip").as_deref(), Some("`ip` is on the personal-data list"));
/// assert!(matched_rule("owner_name").unwrap().contains("`_name`"));
/// ```
pub fn matched_rule(name: &str) -> Option<String> {
    if EXACT.contains(&name) {
        return Some(format!("`{name}` is on the personal-data list"));
    }
    if FLAG_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return None;
    }
    if let Some(part) = CONTAINS.iter().find(|part| name.contains(*part)) {
        return Some(format!("it contains `{part}`"));
    }
    if let Some(suffix) = SUFFIXES.iter().find(|suffix| name.ends_with(*suffix)) {
        return Some(format!("it ends with `{suffix}`"));
    }
    if let Some(prefix) = PREFIXES.iter().find(|prefix| name.starts_with(*prefix)) {
        return Some(format!("it starts with `{prefix}`"));
    }
    None
}

/// Whether `name` denotes personal data.
///
/// ```
/// assert!(telemetry_naming::personal_data::is_personal_data("refresh_token"));
/// assert!(!telemetry_naming::personal_data::is_personal_data("has_email"));
/// ```
pub fn is_personal_data(name: &str) -> bool {
    matched_rule(name).is_some()
}

/// The word to put after `has_` in a suggested flag name.
pub(super) fn flag_stem(name: &str) -> &str {
    CONTAINS
        .iter()
        .find(|part| name.contains(*part))
        .copied()
        .unwrap_or(name)
}
