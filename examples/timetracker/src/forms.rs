//! Parsing HTML form fields, which arrive as text (an empty field means "not given").

use crate::error::AppError;

/// Trimmed text, `None` when blank.
pub fn opt_text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A number, `None` when blank.
pub fn opt_f64(value: Option<&str>, field: &str) -> Result<Option<f64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(format!("{field} must be a number"))),
    }
}

/// A record id, `None` when blank.
pub fn opt_id(value: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(format!("{field} must be a record number"))),
    }
}

/// A checkbox: present and not `false`/`off`/`0`.
pub fn checkbox(value: Option<&str>) -> bool {
    value.is_some_and(|v| !matches!(v, "false" | "off" | "0" | ""))
}

/// Required text of at most `max` characters.
pub fn required_text(value: &str, field: &str, max: usize) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(format!(
            "{field} must be at most {max} characters"
        )));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_fields_are_none() {
        assert_eq!(opt_text(Some("  ".into())), None);
        assert_eq!(opt_f64(Some(""), "rate").unwrap(), None);
        assert_eq!(opt_f64(Some("12.5"), "rate").unwrap(), Some(12.5));
        assert!(opt_f64(Some("x"), "rate").is_err());
        assert_eq!(opt_id(Some(" 7 "), "id").unwrap(), Some(7));
        assert!(checkbox(Some("on")));
        assert!(!checkbox(None));
        assert!(required_text(" ", "name", 10).is_err());
        assert!(required_text("abcdefghijk", "name", 10).is_err());
    }
}
