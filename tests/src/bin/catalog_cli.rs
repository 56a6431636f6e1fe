//! A tiny application for `tests/catalog_cli.rs`: serves its catalog with
//! `--telemetry-catalog[=md|json]` and its privacy changelog with
//! `--telemetry-catalog-diff=OLD.json`, else says it ran.
//!
//! With `CATALOG_CLI_PLAIN` set it uses the plain `exit_if_requested()` (the document is named
//! after the executable, without a version); otherwise `exit_if_requested_with`.
//!
//! With `CATALOG_CLI_CHECK=PATH` it instead runs the document check of
//! `assert_document_current` on `PATH` (Markdown, or JSON for a `.json` path) against its own
//! catalog, exactly as a `cargo test` of a package named like the binary would (cargo sets
//! `CARGO_PKG_NAME` and `CARGO_PKG_VERSION` for the tests it runs), and exits 0 when it passes,
//! 1 with the mismatch otherwise.

use telemetry_core::catalog::{AppInfo, Format, check_document};
use telemetry_core::{EventDef, PropDef, Site, Trigger, ValueKind};

static CLI_INVOKED: EventDef = EventDef {
    name: "cli.invoked",
    description: "The command-line tool was started with a subcommand.",
    trigger: Trigger::Call,
    props: &[PropDef::new("verbose", "bool", ValueKind::Boolean, &[])],
    has_distinct_id: false,
    site: Site {
        module_path: module_path!(),
        function: "main",
        file: file!(),
        line: line!(),
    },
};

telemetry_core::__private::submit!(telemetry_core::__private::Registration(&CLI_INVOKED));

fn main() {
    if let Some(path) = std::env::var_os("CATALOG_CLI_CHECK") {
        let format = if path.to_string_lossy().ends_with(".json") {
            Format::Json
        } else {
            Format::Markdown
        };
        match check_document(&path, format) {
            Ok(()) => std::process::exit(0),
            Err(mismatch) => {
                eprintln!("{mismatch}");
                std::process::exit(1);
            }
        }
    }
    if std::env::var_os("CATALOG_CLI_PLAIN").is_some() {
        telemetry_core::catalog::exit_if_requested();
    } else {
        telemetry_core::catalog::exit_if_requested_with(AppInfo::new("catalog-cli", "9.9.9"));
    }
    println!("the application ran");
}
