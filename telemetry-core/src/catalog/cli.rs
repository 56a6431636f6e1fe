//! `--telemetry-catalog=md|json`: any binary serves its own transparency document (and, through
//! [`diff_cli`](super::diff_cli), its privacy changelog).

use std::ffi::OsStr;
use std::fmt;
use std::io::Write as _;

use super::{AppInfo, Format, catalog};

/// The command-line flag handled by [`exit_if_requested`].
///
/// ```
/// assert_eq!(telemetry_core::catalog::FLAG, "--telemetry-catalog");
/// ```
pub const FLAG: &str = "--telemetry-catalog";

/// A `--telemetry-catalog` value that names no [`Format`].
///
/// ```
/// use telemetry_core::catalog::parse_args;
/// let err = parse_args(["--telemetry-catalog=yaml"]).unwrap_err();
/// assert_eq!(err.given(), "yaml");
/// assert!(err.to_string().contains("valid formats: md (or markdown), json"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat {
    given: String,
}

impl UnknownFormat {
    pub(crate) fn new(given: impl Into<String>) -> UnknownFormat {
        UnknownFormat {
            given: given.into(),
        }
    }

    /// The value that was given.
    ///
    /// ```
    /// let error = telemetry_core::catalog::parse_args(["--telemetry-catalog", "pdf"]).unwrap_err();
    /// assert_eq!(error.given(), "pdf");
    /// ```
    pub fn given(&self) -> &str {
        &self.given
    }
}

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `push` and `push-dry-run` exist only with the `posthog` feature: say so rather than
        // call a documented format unknown.
        if cfg!(not(feature = "posthog")) && self.given.to_ascii_lowercase().starts_with("push") {
            return write!(
                f,
                "telemetry catalog format {:?} needs telemetry-core's `posthog` cargo feature, \
                 which this binary was built without; valid formats here: md (or markdown), json",
                self.given
            );
        }
        write!(
            f,
            "unknown telemetry catalog format {:?}; valid formats: md (or markdown), json \
             (for example {FLAG}=json)",
            self.given
        )
    }
}

impl std::error::Error for UnknownFormat {}

/// Finds a request for the catalog among command-line arguments (without the program name).
///
/// Accepted forms: `--telemetry-catalog=FORMAT`, `--telemetry-catalog FORMAT` and
/// `--telemetry-catalog` alone (Markdown), where the next argument counts as the format unless
/// it starts with `-`. `FORMAT` is `md`, `markdown` or `json`, in any case. The first
/// occurrence wins; arguments after `--` are not looked at. Pure: reads nothing but `args`.
///
/// ```
/// use telemetry_core::catalog::{Format, parse_args};
///
/// assert_eq!(parse_args(["--telemetry-catalog=json"]), Ok(Some(Format::Json)));
/// assert_eq!(parse_args(["--telemetry-catalog", "json"]), Ok(Some(Format::Json)));
/// assert_eq!(parse_args(["--port", "80", "--telemetry-catalog"]), Ok(Some(Format::Markdown)));
/// assert_eq!(parse_args(["--port", "80"]), Ok(None));
/// assert!(parse_args(["--telemetry-catalog=pdf"]).is_err());
/// ```
pub fn parse_args<I>(args: I) -> Result<Option<Format>, UnknownFormat>
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let arg = arg.as_ref();
        if arg == "--" {
            return Ok(None);
        }
        let Some(text) = arg.to_str() else { continue };
        if text == FLAG {
            let value = match args.peek() {
                Some(next) if !next.as_ref().to_string_lossy().starts_with('-') => {
                    next.as_ref().to_string_lossy().into_owned()
                }
                _ => return Ok(Some(Format::Markdown)),
            };
            return value.parse().map(Some);
        }
        if let Some(value) = text.strip_prefix(FLAG).and_then(|v| v.strip_prefix('=')) {
            return value.parse().map(Some);
        }
    }
    Ok(None)
}

/// Serves the catalog when the process was started with `--telemetry-catalog[=md|json]`:
/// prints the document to stdout and exits with status 0. An unknown format prints a message
/// listing the valid ones to stderr and exits with status 2. Without the flag, returns and does
/// nothing else.
///
/// With `--telemetry-catalog-diff=OLD.json` ([`DIFF_FLAG`](super::DIFF_FLAG)) it prints the
/// privacy changelog instead: what this binary's catalog changes in data collection compared
/// with the committed `telemetry-catalog/v1` document `OLD.json` ([`diff`](super::diff())), as
/// Markdown for a pull-request comment, and exits 0. When `OLD.json` cannot be read or is not a
/// `telemetry-catalog/v1` document it says why on stderr and exits 1.
///
/// Call it first thing in `main`, before anything that needs configuration, a network or a
/// database, so that the document can be produced anywhere (for instance in CI, or by a user
/// reading what a downloaded binary sends).
///
/// The document names the application after the executable's file stem and carries no version
/// (see [`AppInfo::from_current_exe`]): for a binary named after its package, as `cargo new`
/// makes it, this is byte for byte the document that
/// [`assert_document_current`](super::assert_document_current) accepts, and it stays the same
/// across version bumps. When the binary's name differs from its package's, use
/// [`exit_if_requested_with`] with [`app_info!`](crate::app_info):
///
/// ```no_run
/// // First thing in `main`:
/// telemetry_core::catalog::exit_if_requested();
/// // ... the application ...
/// ```
///
/// ```text
/// $ myapp --telemetry-catalog=json > TRACKED_EVENTS.json
/// $ myapp --telemetry-catalog | less
/// ```
pub fn exit_if_requested() {
    serve_if_requested(AppInfo::from_current_exe);
}

/// [`exit_if_requested`], with the application's name (and, if given, version) for the document.
///
/// Give it the same [`AppInfo`] as the tests that check the committed document (they use
/// [`AppInfo::from_cargo_env`], the package's name), for instance with
/// [`app_info!`](crate::app_info):
///
/// ```no_run
/// // First thing in `main`:
/// telemetry_core::catalog::exit_if_requested_with(telemetry_core::app_info!());
/// // ... the application ...
/// ```
pub fn exit_if_requested_with(app: AppInfo) {
    serve_if_requested(move || app);
}

fn serve_if_requested(app: impl FnOnce() -> AppInfo) {
    // --telemetry-catalog=push|push-dry-run: the catalog into PostHog (super::push).
    #[cfg(feature = "posthog")]
    if let Some(mode) = super::push::requested(std::env::args_os().skip(1)) {
        std::process::exit(super::push::run(mode, &catalog()));
    }
    super::diff_cli::serve_diff_if_requested();
    let format = match parse_args(std::env::args_os().skip(1)) {
        Ok(None) => return,
        Ok(Some(format)) => format,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::exit(2);
        }
    };
    let document = catalog().with_app_info(app()).render(format);
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_all(document.as_bytes())
        .and_then(|()| stdout.flush());
    match written {
        Ok(()) => std::process::exit(0),
        // `myapp --telemetry-catalog | head`: the reader has what it wanted.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(err) => {
            eprintln!("error: cannot write the telemetry catalog: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn parse(args: &[&str]) -> Result<Option<Format>, UnknownFormat> {
        parse_args(args)
    }

    #[test]
    fn the_flag_alone_means_markdown() {
        assert_eq!(parse(&["--telemetry-catalog"]), Ok(Some(Format::Markdown)));
        assert_eq!(
            parse(&["--telemetry-catalog", "--verbose"]),
            Ok(Some(Format::Markdown))
        );
    }

    #[test]
    fn formats_with_equals_or_as_the_next_argument() {
        for (args, want) in [
            (&["--telemetry-catalog=md"][..], Format::Markdown),
            (&["--telemetry-catalog=markdown"][..], Format::Markdown),
            (&["--telemetry-catalog=JSON"][..], Format::Json),
            (
                &["serve", "--telemetry-catalog=json", "--x"][..],
                Format::Json,
            ),
            (&["--telemetry-catalog", "md"][..], Format::Markdown),
            (
                &["-v", "--telemetry-catalog", "json", "x"][..],
                Format::Json,
            ),
        ] {
            assert_eq!(parse(args), Ok(Some(want)), "{args:?}");
        }
    }

    #[test]
    fn unknown_formats_are_errors() {
        assert_eq!(
            parse(&["--telemetry-catalog=yaml"]),
            Err(UnknownFormat::new("yaml"))
        );
        assert_eq!(
            parse(&["--telemetry-catalog", "html"]),
            Err(UnknownFormat::new("html"))
        );
        assert_eq!(
            parse(&["--telemetry-catalog="]),
            Err(UnknownFormat::new(""))
        );
        let message = UnknownFormat::new("yaml").to_string();
        assert!(message.contains("md"), "{message}");
        assert!(message.contains("json"), "{message}");
    }

    #[test]
    fn other_arguments_are_ignored() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["--telemetry-catalogue=json"]), Ok(None));
        assert_eq!(parse(&["--telemetry-catalogjson"]), Ok(None));
        assert_eq!(parse(&["-", "telemetry-catalog"]), Ok(None));
        assert_eq!(parse(&["--", "--telemetry-catalog=json"]), Ok(None));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_skipped() {
        use std::os::unix::ffi::OsStringExt;
        let junk = OsString::from_vec(vec![0xff, 0xfe]);
        let args = [junk.clone(), OsString::from("--telemetry-catalog=json")];
        assert_eq!(parse_args(&args), Ok(Some(Format::Json)));
        let args = [OsString::from("--telemetry-catalog"), junk];
        assert!(parse_args(&args).is_err());
    }
}
