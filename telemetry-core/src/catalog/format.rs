//! The two document formats and their names on the command line.

use std::fmt;

use super::UnknownFormat;

/// A document format.
///
/// ```
/// use telemetry_core::catalog::Format;
/// assert_eq!("json".parse::<Format>(), Ok(Format::Json));
/// assert_eq!("md".parse::<Format>(), Ok(Format::Markdown));
/// assert_eq!(Format::Markdown.to_string(), "md");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// The transparency document for end users (`md`, also `markdown`).
    Markdown,
    /// The machine-readable catalog, schema `telemetry-catalog/v1` (`json`).
    Json,
}

impl Format {
    /// Every format, in the order they are listed in messages.
    ///
    /// ```
    /// assert_eq!(telemetry_core::catalog::Format::ALL.len(), 2);
    /// ```
    pub const ALL: [Format; 2] = [Format::Markdown, Format::Json];

    /// The short name used on the command line: `md` or `json`.
    ///
    /// ```
    /// assert_eq!(telemetry_core::catalog::Format::Markdown.name(), "md");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }

    /// Parses a format name: `md`, `markdown` or `json`, in any case.
    ///
    /// ```
    /// use telemetry_core::catalog::Format;
    /// assert_eq!(Format::from_name("Markdown"), Some(Format::Markdown));
    /// assert_eq!(Format::from_name("yaml"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Format, UnknownFormat> {
        Format::from_name(s).ok_or_else(|| UnknownFormat::new(s))
    }
}
