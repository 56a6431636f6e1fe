//! Checking a committed document against the catalog, and refreshing it ("blessing").

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::{AppInfo, Catalog, Format, catalog};
use crate::catalog::lint::Finding;

/// The environment variable that makes the document check rewrite the file instead of
/// comparing it: `TELEMETRY_CATALOG_BLESS=1 cargo test`.
///
/// ```
/// assert_eq!(telemetry_core::catalog::BLESS_ENV, "TELEMETRY_CATALOG_BLESS");
/// ```
pub const BLESS_ENV: &str = "TELEMETRY_CATALOG_BLESS";

/// At most this many diff lines are shown.
const MAX_DIFF_LINES: usize = 400;

/// Why a committed document does not match the catalog; its `Display` form is the full message
/// (a unified diff or the lint findings, and the command that refreshes the file).
///
/// ```
/// use telemetry_core::Catalog;
/// use telemetry_core::catalog::{DocumentMismatch, Format};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("TRACKED_EVENTS.md");
/// let missing = Catalog::from_defs([]).check_document(path, Format::Markdown);
/// assert!(matches!(missing, Err(DocumentMismatch::Missing { .. })));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum DocumentMismatch {
    /// The file does not exist.
    Missing {
        /// The file that was looked for.
        path: PathBuf,
        /// The command that creates it.
        command: String,
    },
    /// The file differs from the rendered catalog.
    Stale {
        /// The committed file.
        path: PathBuf,
        /// A unified diff from the committed file to the rendered document.
        diff: String,
        /// The command that refreshes it.
        command: String,
    },
    /// The catalog has lint errors (whatever the file says).
    Lint {
        /// The document that was checked.
        path: PathBuf,
        /// The findings of severity error.
        findings: Vec<Finding>,
    },
    /// The file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: io::Error,
    },
}

impl fmt::Display for DocumentMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DocumentMismatch::Missing { path, command } => write!(
                f,
                "the telemetry catalog document {} does not exist.\n\n\
                 Create it from the events in the code with:\n\n    {command}\n\n\
                 then review and commit it.",
                path.display()
            ),
            DocumentMismatch::Stale {
                path,
                diff,
                command,
            } => write!(
                f,
                "the telemetry catalog document {} is out of date: the events in the code \
                 changed.\n\n{diff}\nRefresh it with:\n\n    {command}\n\n\
                 then review the changes and commit them with the code.",
                path.display()
            ),
            DocumentMismatch::Lint { path, findings } => {
                writeln!(
                    f,
                    "the telemetry catalog has {} error{}; fix {} before checking {}:",
                    findings.len(),
                    if findings.len() == 1 { "" } else { "s" },
                    if findings.len() == 1 { "it" } else { "them" },
                    path.display()
                )?;
                for finding in findings {
                    write!(f, "\n{finding}\n")?;
                }
                Ok(())
            }
            DocumentMismatch::Io { path, error } => {
                write!(f, "cannot access {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for DocumentMismatch {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DocumentMismatch::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Compares the committed document at `path` with this binary's [`catalog()`] rendered as
/// `format`, describing the application given by [`AppInfo::from_cargo_env`] (in `cargo test`:
/// the package under test, by name, without a version, as the binary's
/// [`exit_if_requested`](super::exit_if_requested) serves it). With `TELEMETRY_CATALOG_BLESS=1`, (re)writes the
/// file instead, creating its parent directories.
///
/// A relative `path` is resolved against `CARGO_MANIFEST_DIR` when it is set (`cargo test` sets
/// it to the package's directory), else against the working directory. Fails when the file is
/// missing or stale, and when the catalog has lint errors (with or without bless); lint
/// warnings are printed to stderr.
///
/// To describe another application, use [`Catalog::check_document`]:
/// `catalog().with_app_info(AppInfo::named(name)).check_document(path, format)`.
///
/// ```no_run
/// use telemetry_core::catalog::{Format, check_document};
///
/// if let Err(mismatch) = check_document("TRACKED_EVENTS.json", Format::Json) {
///     eprintln!("{mismatch}");
/// }
/// ```
pub fn check_document(path: impl AsRef<Path>, format: Format) -> Result<(), DocumentMismatch> {
    catalog().check_document(path, format)
}

/// [`check_document`], panicking with the mismatch: a readable unified diff (or the lint
/// findings with their sites) and the exact command that refreshes the file.
///
/// ```no_run
/// use telemetry_core::catalog::{Format, assert_document_current};
///
/// #[test]
/// fn tracked_events_are_documented() {
///     assert_document_current("TRACKED_EVENTS.md", Format::Markdown);
///     assert_document_current("TRACKED_EVENTS.json", Format::Json);
/// }
/// ```
#[track_caller]
pub fn assert_document_current(path: impl AsRef<Path>, format: Format) {
    if let Err(mismatch) = check_document(path, format) {
        panic!("{mismatch}");
    }
}

impl Catalog {
    /// Writes the document in `format` to `path` (relative paths as in
    /// [`Catalog::check_document`]), creating parent directories. Leaves an identical file
    /// untouched.
    ///
    /// ```no_run
    /// use telemetry_core::catalog::Format;
    /// telemetry_core::catalog()
    ///     .with_app("timetracker", "1.4.0")
    ///     .write_document("TRACKED_EVENTS.md", Format::Markdown)
    ///     .unwrap();
    /// ```
    pub fn write_document(&self, path: impl AsRef<Path>, format: Format) -> io::Result<()> {
        write(&resolve(path.as_ref()), &self.render(format))
    }
}

pub(crate) fn bless_requested() -> bool {
    std::env::var(BLESS_ENV).is_ok_and(|v| is_truthy(&v))
}

fn is_truthy(value: &str) -> bool {
    let value = value.trim().to_ascii_lowercase();
    !matches!(value.as_str(), "" | "0" | "false" | "no" | "off")
}

fn resolve(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) if !dir.is_empty() => Path::new(&dir).join(path),
        _ => path.to_path_buf(),
    }
}

fn bless_command() -> String {
    match std::env::var("CARGO_PKG_NAME") {
        Ok(package) if !package.is_empty() => {
            format!("{BLESS_ENV}=1 cargo test -p {package}")
        }
        _ => format!("{BLESS_ENV}=1 cargo test"),
    }
}

fn write(path: &Path, contents: &str) -> io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents)
}

fn unified_diff(path: &Path, committed: &str, rendered: &str) -> String {
    let old_header = format!("{} (committed)", path.display());
    let diff = similar::TextDiff::from_lines(committed, rendered);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_header, "rendered from the catalog")
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= MAX_DIFF_LINES {
        return text;
    }
    let mut shown = lines[..MAX_DIFF_LINES].join("\n");
    shown.push_str(&format!(
        "\n... {} more diff lines not shown\n",
        lines.len() - MAX_DIFF_LINES
    ));
    shown
}

pub(crate) fn check(
    catalog: &Catalog,
    path: &Path,
    format: Format,
    bless: bool,
) -> Result<(), DocumentMismatch> {
    let path = resolve(path);
    let described;
    let catalog = if catalog.has_app() {
        catalog
    } else {
        described = catalog.clone().with_app_info(AppInfo::from_cargo_env());
        &described
    };

    let (errors, warnings): (Vec<Finding>, Vec<Finding>) =
        catalog.lint().into_iter().partition(Finding::is_error);
    for warning in &warnings {
        eprintln!("{warning}");
    }
    if !errors.is_empty() {
        return Err(DocumentMismatch::Lint {
            path,
            findings: errors,
        });
    }

    let rendered = catalog.render(format);
    if bless {
        write(&path, &rendered).map_err(|error| DocumentMismatch::Io {
            path: path.clone(),
            error,
        })?;
        eprintln!("blessed {}", path.display());
        return Ok(());
    }
    let committed = match std::fs::read_to_string(&path) {
        Ok(text) => text.replace("\r\n", "\n"),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(DocumentMismatch::Missing {
                path,
                command: bless_command(),
            });
        }
        Err(error) => return Err(DocumentMismatch::Io { path, error }),
    };
    if committed == rendered {
        return Ok(());
    }
    Err(DocumentMismatch::Stale {
        diff: unified_diff(&path, &committed, &rendered),
        path,
        command: bless_command(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Lint;
    use crate::catalog::test_support::def;
    use crate::definition::Trigger;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "telemetry-catalog-check-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn sample(description: &'static str) -> Catalog {
        let a = def(
            "task.created",
            description,
            Trigger::Success,
            vec![],
            "src/a.rs",
            1,
        );
        Catalog::from_defs([a]).with_app("tt", "1.0.0")
    }

    #[test]
    fn a_current_document_passes() {
        let dir = temp_dir("match");
        let catalog = sample("A task was created in a project.");
        for format in Format::ALL {
            let path = dir.join(format!("doc.{format}"));
            std::fs::write(&path, catalog.render(format)).unwrap();
            check(&catalog, &path, format, false).unwrap();
            // A checkout with CRLF line endings is current too.
            std::fs::write(&path, catalog.render(format).replace('\n', "\r\n")).unwrap();
            check(&catalog, &path, format, false).unwrap();
        }
    }

    #[test]
    fn a_stale_document_fails_with_a_unified_diff_and_the_bless_command() {
        let dir = temp_dir("stale");
        let path = dir.join("doc.md");
        let old = sample("A task was created in a project.");
        std::fs::write(&path, old.to_markdown()).unwrap();
        let new = sample("A task was added to a project.");
        let err = check(&new, &path, Format::Markdown, false).unwrap_err();
        let DocumentMismatch::Stale { diff, command, .. } = &err else {
            panic!("{err:?}");
        };
        assert!(diff.contains("(committed)"), "{diff}");
        assert!(diff.contains("+++ rendered from the catalog"), "{diff}");
        assert!(
            diff.contains("\n-A task was created in a project.\n"),
            "{diff}"
        );
        assert!(
            diff.contains("\n+A task was added to a project.\n"),
            "{diff}"
        );
        assert!(diff.contains("@@ "), "{diff}");
        assert!(command.starts_with("TELEMETRY_CATALOG_BLESS=1 cargo test"));
        let message = err.to_string();
        assert!(message.contains("is out of date"), "{message}");
        assert!(
            message.contains("TELEMETRY_CATALOG_BLESS=1 cargo test"),
            "{message}"
        );
    }

    #[test]
    fn bless_writes_the_document_creating_directories() {
        let dir = temp_dir("bless");
        let path = dir.join("docs").join("nested").join("doc.json");
        let catalog = sample("A task was created in a project.");
        check(&catalog, &path, Format::Json, true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), catalog.to_json());
        check(&catalog, &path, Format::Json, false).unwrap();
        // Blessing a stale file rewrites it.
        std::fs::write(&path, "{}\n").unwrap();
        check(&catalog, &path, Format::Json, true).unwrap();
        check(&catalog, &path, Format::Json, false).unwrap();
    }

    #[test]
    fn a_missing_document_fails_with_the_bless_hint() {
        let dir = temp_dir("missing");
        let path = dir.join("absent.md");
        let err = check(
            &sample("A task was created in a project."),
            &path,
            Format::Markdown,
            false,
        )
        .unwrap_err();
        assert!(matches!(err, DocumentMismatch::Missing { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("does not exist"), "{message}");
        assert!(
            message.contains("TELEMETRY_CATALOG_BLESS=1 cargo test"),
            "{message}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn lint_errors_fail_the_check_even_when_blessing() {
        let dir = temp_dir("lint");
        let path = dir.join("doc.md");
        let catalog = sample("TODO");
        std::fs::write(&path, catalog.to_markdown()).unwrap();
        for bless in [false, true] {
            let err = check(&catalog, &path, Format::Markdown, bless).unwrap_err();
            let DocumentMismatch::Lint { findings, .. } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(findings.len(), 1);
            assert_eq!(findings[0].lint, Lint::PlaceholderDescription);
            let message = err.to_string();
            assert!(message.contains("has 1 error"), "{message}");
            assert!(
                message.contains("error[placeholder-description]"),
                "{message}"
            );
            assert!(
                message.contains("--> src/a.rs:1 (app::handlers::handler)"),
                "{message}"
            );
        }
        // Warnings do not fail it.
        let warned = sample("Task created.");
        std::fs::write(&path, warned.to_markdown()).unwrap();
        check(&warned, &path, Format::Markdown, false).unwrap();
    }

    #[test]
    fn long_diffs_are_cut() {
        let old: String = (0..1000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..1000).map(|i| format!("new {i}\n")).collect();
        let diff = unified_diff(Path::new("x.md"), &old, &new);
        assert!(diff.lines().count() <= MAX_DIFF_LINES + 1);
        assert!(diff.contains("more diff lines not shown"));
    }

    #[test]
    fn bless_values() {
        for yes in ["1", "true", "YES", "on"] {
            assert!(is_truthy(yes), "{yes}");
        }
        for no in ["", "0", "false", "No", "off", " "] {
            assert!(!is_truthy(no), "{no}");
        }
    }
}
