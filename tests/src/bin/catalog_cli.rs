//! A tiny application for `tests/catalog_cli.rs`: serves its catalog with
//! `--telemetry-catalog[=md|json]`, else says it ran.
//!
//! With `CATALOG_CLI_PLAIN` set it uses the plain `exit_if_requested()` (the document is named
//! after the executable, version "unspecified"); otherwise `exit_if_requested_with`.

use telemetry_core::catalog::AppInfo;
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
    if std::env::var_os("CATALOG_CLI_PLAIN").is_some() {
        telemetry_core::catalog::exit_if_requested();
    } else {
        telemetry_core::catalog::exit_if_requested_with(AppInfo::new("catalog-cli", "9.9.9"));
    }
    println!("the application ran");
}
