//! `--telemetry-catalog=push`: the catalog written into PostHog's data management.
//!
//! Part of the `posthog` feature (on by default); built without it, `push` is an error that
//! names the missing feature (exit status 2).
//!
//! PostHog keeps an *event definition* per event name and a *property definition* per property
//! name, with a description, tags and (for properties) a type, shown wherever a product team
//! picks an event or a property. A push makes those say what the catalog says, through
//! PostHog's REST API (`/api/projects/<id>/event_definitions/` and `/property_definitions/`):
//!
//! - event definitions are created when missing (PostHog accepts a `POST` before the event is
//!   first ingested) or updated: the catalog's description, and the tag [`TAG`](desired::TAG) added to the
//!   definition's own tags;
//! - property definitions cannot be created through the API (PostHog makes them when it ingests
//!   a property; a `POST` answers 405), so the ones PostHog has seen are updated (description,
//!   and the type under PostHog's names, see [`posthog_property_type`]), and the ones it has not
//!   seen yet are listed: push again after the first events arrive;
//! - nothing that already matches is written: a second push writes nothing;
//! - a deployment without PostHog's enterprise data management (self-hosted without the `ee`
//!   package, or a plan without it) has no description field: the push still creates the missing
//!   event definitions and sets property types, and lists what it could not write and why.
//!
//! Configuration, with the names of PostHog's own CLI:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `POSTHOG_CLI_TOKEN` | a personal API key (`phx_...`) with `event_definition:write` and `property_definition:write` |
//! | `POSTHOG_CLI_ENV_ID` | the project id (the number in `/project/<id>/` of PostHog's URLs) |
//! | `POSTHOG_CLI_HOST` | PostHog's app host; default [`DEFAULT_HOST`] (use `https://eu.posthog.com` for the EU cloud) |
//!
//! ```text
//! $ POSTHOG_CLI_TOKEN=phx_... POSTHOG_CLI_ENV_ID=12345 myapp --telemetry-catalog=push-dry-run
//! $ POSTHOG_CLI_TOKEN=phx_... POSTHOG_CLI_ENV_ID=12345 myapp --telemetry-catalog=push
//! ```
//!
//! The dry run reads PostHog and prints the plan without writing. Exit status: 0 when
//! everything the deployment accepts is written, 1 on an authentication or API error (the key is
//! never printed), 2 when the configuration is missing or invalid.

mod api;
mod apply;
mod desired;
mod plan;
mod report;

use std::ffi::OsStr;
use std::io::Write;

use crate::catalog::{Catalog, FLAG};

/// The host used when `POSTHOG_CLI_HOST` is unset: PostHog's US cloud app.
pub const DEFAULT_HOST: &str = "https://us.posthog.com";

/// Whether to write or only to show what would be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--telemetry-catalog=push`.
    Push,
    /// `--telemetry-catalog=push-dry-run`: reads, prints the plan, writes nothing.
    DryRun,
}

/// Finds `--telemetry-catalog=push` or `=push-dry-run` (also `--telemetry-catalog push`) among
/// command-line arguments without the program name; arguments after `--` are not looked at.
pub fn requested<I>(args: I) -> Option<Mode>
where
    I: IntoIterator,
    I::Item: AsRef<OsStr>,
{
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg.as_ref().to_str()?.to_owned();
        if arg == "--" {
            return None;
        }
        let value = if arg == FLAG {
            args.next()?.as_ref().to_str()?.to_owned()
        } else if let Some(value) = arg.strip_prefix(FLAG).and_then(|v| v.strip_prefix('=')) {
            value.to_owned()
        } else {
            continue;
        };
        return match value.to_ascii_lowercase().as_str() {
            "push" => Some(Mode::Push),
            "push-dry-run" => Some(Mode::DryRun),
            _ => None,
        };
    }
    None
}

/// Where to push, read from the environment. Its `Debug` does not show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) token: String,
    pub(crate) project: String,
    pub(crate) host: String,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("token", &"<redacted>")
            .field("project", &self.project)
            .field("host", &self.host)
            .finish()
    }
}

impl Config {
    /// Reads `POSTHOG_CLI_TOKEN`, `POSTHOG_CLI_ENV_ID` and `POSTHOG_CLI_HOST` through `var`.
    /// The error says which variable is missing or wrong.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let get = |name: &str| {
            var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let token = get("POSTHOG_CLI_TOKEN").ok_or(
            "POSTHOG_CLI_TOKEN is not set: give a personal API key (phx_...) with \
             event_definition:write and property_definition:write",
        )?;
        let project = get("POSTHOG_CLI_ENV_ID")
            .ok_or("POSTHOG_CLI_ENV_ID is not set: give the PostHog project id")?;
        if !project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "POSTHOG_CLI_ENV_ID {project:?} is not a project id (digits, as in PostHog's URLs)"
            ));
        }
        let host = get("POSTHOG_CLI_HOST")
            .unwrap_or_else(|| DEFAULT_HOST.to_owned())
            .trim_end_matches('/')
            .to_owned();
        Ok(Config {
            token,
            project,
            host,
        })
    }
}

/// Pushes `catalog` (or, in [`Mode::DryRun`], prints the plan) with the configuration from the
/// environment, printing to stdout and stderr; returns the exit status (see the module docs).
pub fn run(mode: Mode, catalog: &Catalog) -> i32 {
    let config = match Config::from_vars(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: telemetry catalog push: {err}");
            return 2;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let status = push(mode, catalog, &config, &mut out);
    let _ = out.flush();
    status
}

/// [`run`] with a given configuration and output, for tools and tests. Errors go to stderr.
pub fn push(mode: Mode, catalog: &Catalog, config: &Config, out: &mut dyn Write) -> i32 {
    let mut client = match api::Client::new(config) {
        Ok(client) => client,
        Err(err) => {
            eprintln!("error: telemetry catalog push: {err}");
            return 2;
        }
    };
    let (events, props) = desired::desired(catalog);
    let _ = writeln!(
        out,
        "Telemetry catalog -> PostHog {} project {}{}",
        config.host,
        config.project,
        if mode == Mode::DryRun {
            " (dry run: nothing is written)"
        } else {
            ""
        }
    );
    let remote = match plan::fetch(&client, &events, &props) {
        Ok(remote) => remote,
        Err(err) => {
            eprintln!("{}", report::fatal(&err, config));
            return 1;
        }
    };
    let plan = plan::plan(&events, &props, &remote);
    if mode == Mode::DryRun {
        report::print_plan(&plan, out);
        return 0;
    }
    match apply::apply(&mut client, plan) {
        Ok(done) => {
            report::print_report(&done, out);
            if done.failed() > 0 {
                eprintln!(
                    "error: telemetry catalog push: {} definition(s) could not be written (see above)",
                    done.failed()
                );
                1
            } else {
                0
            }
        }
        Err(err) => {
            eprintln!("{}", report::fatal(&err, config));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_is_requested_by_flag_value_before_a_double_dash() {
        assert_eq!(requested(["--telemetry-catalog=push"]), Some(Mode::Push));
        assert_eq!(
            requested(["--telemetry-catalog", "push-dry-run"]),
            Some(Mode::DryRun)
        );
        assert_eq!(requested(["--telemetry-catalog=json"]), None);
        assert_eq!(requested(["--", "--telemetry-catalog=push"]), None);
    }

    #[test]
    fn config_defaults_the_host_names_a_missing_variable_and_hides_the_token() {
        let env = |name: &str| match name {
            "POSTHOG_CLI_TOKEN" => Some("phx_example".to_owned()),
            "POSTHOG_CLI_ENV_ID" => Some("12345".to_owned()),
            _ => None,
        };
        let config = Config::from_vars(env).unwrap();
        assert_eq!(config.host, "https://us.posthog.com");
        assert_eq!(config.project, "12345");
        assert!(!format!("{config:?}").contains("phx_example"));
        let missing = Config::from_vars(|_| None).unwrap_err();
        assert!(missing.contains("POSTHOG_CLI_TOKEN"), "{missing}");
    }
}
