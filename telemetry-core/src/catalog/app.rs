//! The application a document names: [`AppInfo`] and [`app_info!`](crate::app_info).

#[cfg(doc)]
use super::{Catalog, assert_document_current, check_document, exit_if_requested};

/// The application a document describes: its name, and a version when one was given.
///
/// The committed documents carry no version: [`exit_if_requested`] and
/// [`assert_document_current`] both describe the application by name only, so the document a
/// binary serves is byte for byte the one its tests accept, and a release that changes no event
/// leaves the document unchanged. Give a version ([`AppInfo::new`], [`Catalog::with_app`]) for a
/// document that is not committed, such as a page the running application serves.
///
/// ```
/// use telemetry_core::catalog::AppInfo;
/// let app = AppInfo::new("timetracker", "1.4.0");
/// assert_eq!(app.name, "timetracker");
/// assert_eq!(app.version.as_deref(), Some("1.4.0"));
/// assert_eq!(AppInfo::named("timetracker").version, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AppInfo {
    /// The application's name.
    pub name: String,
    /// The application's version, shown in the documents when given.
    pub version: Option<String>,
}

impl AppInfo {
    /// An application with this name and version.
    ///
    /// ```
    /// let app = telemetry_core::catalog::AppInfo::new("timetracker", "1.4.0");
    /// assert_eq!(app.version.as_deref(), Some("1.4.0"));
    /// ```
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> AppInfo {
        AppInfo {
            name: name.into(),
            version: Some(version.into()),
        }
    }

    /// An application with this name and no version: what the committed documents describe.
    ///
    /// ```
    /// let app = telemetry_core::catalog::AppInfo::named("timetracker");
    /// assert_eq!((app.name.as_str(), app.version), ("timetracker", None));
    /// ```
    pub fn named(name: impl Into<String>) -> AppInfo {
        AppInfo {
            name: name.into(),
            version: None,
        }
    }

    /// The running executable's file stem (without `.exe`), and no version.
    ///
    /// This is what [`exit_if_requested`] uses. For a binary built from `src/main.rs` the stem
    /// is the package's name, which is what [`AppInfo::from_cargo_env`] gives the tests. Falls
    /// back to `"application"` when the executable's path is unknown.
    ///
    /// ```
    /// let app = telemetry_core::catalog::AppInfo::from_current_exe();
    /// assert_eq!(app.version, None);
    /// assert!(!app.name.is_empty());
    /// ```
    pub fn from_current_exe() -> AppInfo {
        let name = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "application".to_owned());
        AppInfo::named(name)
    }

    /// The package name from the `CARGO_PKG_NAME` environment variable, which `cargo test` and
    /// `cargo run` set for the process they start, and no version;
    /// [`AppInfo::from_current_exe`] when it is not set.
    ///
    /// This is what [`assert_document_current`] and [`check_document`] use: in a test of the
    /// package `timetracker`, the document describes `timetracker`, as the `timetracker` binary
    /// does with [`exit_if_requested`].
    ///
    /// ```
    /// // Under `cargo test` this is the package being tested.
    /// let app = telemetry_core::catalog::AppInfo::from_cargo_env();
    /// assert!(!app.name.is_empty() && app.version.is_none());
    /// ```
    pub fn from_cargo_env() -> AppInfo {
        match std::env::var("CARGO_PKG_NAME") {
            Ok(name) if !name.is_empty() => AppInfo::named(name),
            _ => AppInfo::from_current_exe(),
        }
    }
}

/// The application info of the crate where this macro is written, read at compile time: its
/// package name (`CARGO_PKG_NAME`), no version.
///
/// Pass it to [`exit_if_requested_with`](crate::catalog::exit_if_requested_with) when the
/// binary's name differs from its package's, so that the document the binary serves names the
/// same application as the one its tests check.
///
/// ```
/// let app = telemetry_core::app_info!();
/// assert_eq!(app.name, env!("CARGO_PKG_NAME"));
/// assert_eq!(app.version, None);
/// ```
#[macro_export]
macro_rules! app_info {
    () => {
        $crate::catalog::AppInfo::named(env!("CARGO_PKG_NAME"))
    };
}
