//! `--telemetry-catalog-diff=OLD.json`: any binary prints what it changes in data collection
//! compared with a committed catalog document.

use std::ffi::{OsStr, OsString};
use std::io::Write as _;

use super::diff::{DIFF_FLAG, diff};
use super::{SCHEMA_NAME, catalog};

/// The path given with [`DIFF_FLAG`], if the flag is among `args` (without the program name):
/// `Some(Some(path))` for `--telemetry-catalog-diff=PATH` or `--telemetry-catalog-diff PATH`,
/// `Some(None)` when the path is missing. Arguments after `--` are not looked at.
pub(crate) fn parse_diff_args<I>(args: I) -> Option<Option<OsString>>
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.as_ref();
        if arg == "--" {
            return None;
        }
        let Some(text) = arg.to_str() else { continue };
        if text == DIFF_FLAG {
            return Some(
                args.next()
                    .map(|p| p.as_ref().to_owned())
                    .filter(|p| !p.is_empty() && !p.to_string_lossy().starts_with('-')),
            );
        }
        if let Some(path) = text
            .strip_prefix(DIFF_FLAG)
            .and_then(|v| v.strip_prefix('='))
        {
            return Some((!path.is_empty()).then(|| OsString::from(path)));
        }
    }
    None
}

/// Serves `--telemetry-catalog-diff` when it is among the process's arguments: prints the
/// changelog and exits 0; exits 1 when the old document cannot be read or compared, 2 when the
/// path is missing. Returns when the flag is absent.
pub(crate) fn serve_diff_if_requested() {
    let Some(path) = parse_diff_args(std::env::args_os().skip(1)) else {
        return;
    };
    let Some(path) = path else {
        eprintln!(
            "error: {DIFF_FLAG} needs the committed {SCHEMA_NAME} document to compare with, for \
             example {DIFF_FLAG}=TRACKED_EVENTS.json"
        );
        std::process::exit(2);
    };
    let shown = std::path::Path::new(&path).display().to_string();
    let old = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot read the committed telemetry catalog {shown}: {err}");
            std::process::exit(1);
        }
    };
    let changes = match diff(&old, &catalog()) {
        Ok(changes) => changes,
        Err(err) => {
            eprintln!("error: cannot compare with {shown}: {err}");
            std::process::exit(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(changes.to_markdown().as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => std::process::exit(0),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(err) => {
            eprintln!("error: cannot write the telemetry changelog: {err}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Option<Option<OsString>> {
        parse_diff_args(args)
    }

    #[test]
    fn the_path_follows_an_equals_sign_or_comes_next() {
        assert_eq!(
            parse(&["--telemetry-catalog-diff=old.json"]),
            Some(Some("old.json".into()))
        );
        assert_eq!(
            parse(&["serve", "--telemetry-catalog-diff", "a b.json", "x"]),
            Some(Some("a b.json".into()))
        );
    }

    #[test]
    fn a_missing_path_is_reported() {
        assert_eq!(parse(&["--telemetry-catalog-diff"]), Some(None));
        assert_eq!(parse(&["--telemetry-catalog-diff="]), Some(None));
        assert_eq!(
            parse(&["--telemetry-catalog-diff", "--verbose"]),
            Some(None)
        );
    }

    #[test]
    fn other_arguments_are_not_the_diff_flag() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&["--telemetry-catalog=json"]), None);
        assert_eq!(parse(&["--telemetry-catalog-diffs=x"]), None);
        assert_eq!(parse(&["--", "--telemetry-catalog-diff=x"]), None);
    }
}
