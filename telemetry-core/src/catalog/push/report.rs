//! What a push prints: the plan (dry run), the outcome, and the message for a fatal error.

use std::collections::BTreeMap;
use std::io::Write;

use super::Config;
use super::api::ApiError;
use super::apply::{Done, Report};
use super::plan::{EventStep, NotAccepted, Plan, PropStep};

const UNSEEN: &str = "PostHog creates a property definition when it first ingests the property; \
    push again once an event carrying it has arrived";

fn kind(property: bool) -> &'static str {
    if property { "property" } else { "event" }
}

fn opt_fields(parts: &[(bool, &str)]) -> String {
    parts
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, f)| *f)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The dry run's output: what a push would do, one line per definition.
pub(crate) fn print_plan(plan: &Plan, out: &mut dyn Write) {
    let (mut create, mut update, mut same, mut unseen) = (0, 0, 0, 0);
    for step in &plan.events {
        let _ = match step {
            EventStep::Create {
                name,
                description,
                tags,
            } => {
                create += 1;
                let fields = opt_fields(&[
                    (description.is_some(), "description"),
                    (tags.is_some(), "tags"),
                ]);
                writeln!(out, "  would create  event     {name}  [{fields}]")
            }
            EventStep::Update {
                name,
                description,
                tags,
                ..
            } => {
                update += 1;
                let fields = opt_fields(&[
                    (description.is_some(), "description"),
                    (tags.is_some(), "tags"),
                ]);
                writeln!(out, "  would update  event     {name}  [{fields}]")
            }
            EventStep::Same { name } => {
                same += 1;
                writeln!(out, "  unchanged     event     {name}")
            }
        };
    }
    for step in &plan.props {
        let _ = match step {
            PropStep::Update {
                name,
                description,
                property_type,
                ..
            } => {
                update += 1;
                let fields = opt_fields(&[
                    (description.is_some(), "description"),
                    (property_type.is_some(), "property_type"),
                ]);
                let ty = property_type.map(|t| format!(" = {t}")).unwrap_or_default();
                writeln!(out, "  would update  property  {name}  [{fields}]{ty}")
            }
            PropStep::Same { name } => {
                same += 1;
                writeln!(out, "  unchanged     property  {name}")
            }
            PropStep::Unseen { name } => {
                unseen += 1;
                writeln!(out, "  not seen yet  property  {name}")
            }
        };
    }
    print_not_accepted(&plan.not_accepted, out);
    if unseen > 0 {
        let _ = writeln!(out, "Not seen yet: {UNSEEN}.");
    }
    let _ = writeln!(
        out,
        "Plan: {create} to create, {update} to update, {same} unchanged, {unseen} not seen yet, \
         {} not accepted by this deployment. Nothing was written.",
        plan.not_accepted.len()
    );
}

/// The push's output: what happened to each definition, then a summary line.
pub(crate) fn print_report(report: &Report, out: &mut dyn Write) {
    for line in &report.lines {
        let what = kind(line.property);
        let name = &line.name;
        let _ = match &line.done {
            Done::Created => writeln!(out, "  created       {what:<8}  {name}  [{}]", line.fields),
            Done::Updated => writeln!(out, "  updated       {what:<8}  {name}  [{}]", line.fields),
            Done::Unchanged => writeln!(out, "  unchanged     {what:<8}  {name}"),
            Done::Unseen => writeln!(out, "  not seen yet  {what:<8}  {name}"),
            Done::Failed(err) => writeln!(out, "  FAILED        {what:<8}  {name}: {err}"),
        };
    }
    print_not_accepted(&report.not_accepted, out);
    let unseen = report.count(&Done::Unseen);
    if unseen > 0 {
        let _ = writeln!(out, "Not seen yet: {UNSEEN}.");
    }
    let _ = writeln!(
        out,
        "Pushed: {} created, {} updated, {} unchanged, {unseen} not seen yet, {} not accepted by \
         this deployment, {} failed ({} write request(s)).",
        report.count(&Done::Created),
        report.count(&Done::Updated),
        report.count(&Done::Unchanged),
        report.not_accepted.len(),
        report.failed(),
        report.writes,
    );
}

/// Groups the refusals by reason, so a deployment without descriptions gives one paragraph.
fn print_not_accepted(refused: &[NotAccepted], out: &mut dyn Write) {
    let mut by_reason: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for item in refused {
        by_reason
            .entry((item.reason.as_str(), item.fields))
            .or_default()
            .push(&item.name);
    }
    for ((reason, fields), names) in by_reason {
        let _ = writeln!(
            out,
            "Not accepted by this deployment ({fields}) for {}: {reason}.",
            names.join(", ")
        );
    }
}

/// The message for an error that stops the push. Never contains the key.
pub(crate) fn fatal(err: &ApiError, config: &Config) -> String {
    let hint = match err.status() {
        Some(401) => {
            " Check POSTHOG_CLI_TOKEN: it must be a personal API key (phx_..., from PostHog's \
             settings > Personal API keys), not the project key (phc_...), and belong to this host."
        }
        Some(403) => {
            " The key is valid but may not do this: give it the scopes event_definition:write and \
             property_definition:write, and access to this project."
        }
        Some(404) => " Check POSTHOG_CLI_ENV_ID (the project id) and POSTHOG_CLI_HOST.",
        None => " Check POSTHOG_CLI_HOST and the network.",
        _ => "",
    };
    format!(
        "error: telemetry catalog push to {} project {} failed: {err}.{hint}",
        config.host, config.project
    )
}
