//! Carrying out a [`Plan`]: one request per definition that differs, adapting to what the
//! deployment turns out to refuse.

use serde_json::{Map, Value, json};

use super::api::{ApiError, Client, Resource};
use super::desired::TAG;
use super::plan::{EventStep, NO_EVENT_DESCRIPTIONS, NotAccepted, Plan, PropStep};

/// What happened to one definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Done {
    Created,
    Updated,
    Unchanged,
    Unseen,
    Failed(String),
}

/// One definition's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    pub property: bool,
    pub name: String,
    pub done: Done,
    /// Which fields were written.
    pub fields: String,
}

/// The outcome of a push.
#[derive(Debug, Clone, Default)]
pub(crate) struct Report {
    pub lines: Vec<Line>,
    pub not_accepted: Vec<NotAccepted>,
    pub writes: usize,
}

impl Report {
    pub fn count(&self, done: &Done) -> usize {
        self.lines.iter().filter(|l| &l.done == done).count()
    }

    pub fn failed(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| matches!(l.done, Done::Failed(_)))
            .count()
    }
}

/// Tags that a write answered without: PostHog drops them silently when the organisation's plan
/// has no tagging.
const TAGS_DROPPED: &str = "PostHog answered without the tags: this organisation's plan has no \
    tagging, so PostHog drops them without an error";

struct Applier<'c> {
    client: &'c mut Client,
    report: Report,
    /// Set once the deployment refused `description` on an event definition.
    no_event_descriptions: bool,
    /// Set once a write came back without its tags.
    tags_dropped: bool,
}

/// Writes what `plan` says. Stops at the first 401 or 403 (returned as the error); any other
/// failure is recorded on its line and the rest goes on.
pub(crate) fn apply(client: &mut Client, plan: Plan) -> Result<Report, ApiError> {
    let mut applier = Applier {
        client,
        report: Report {
            not_accepted: plan.not_accepted,
            ..Report::default()
        },
        no_event_descriptions: false,
        tags_dropped: false,
    };
    for step in plan.events {
        applier.event(step)?;
    }
    for step in plan.props {
        applier.property(step)?;
    }
    applier.report.writes = applier.client.writes;
    Ok(applier.report)
}

fn body(description: &Option<String>, tags: &Option<Vec<String>>) -> Value {
    let mut body = Map::new();
    if let Some(description) = description {
        body.insert("description".into(), json!(description));
    }
    if let Some(tags) = tags {
        body.insert("tags".into(), json!(tags));
    }
    Value::Object(body)
}

fn fields(description: &Option<String>, tags: &Option<Vec<String>>) -> String {
    let mut fields = Vec::new();
    if description.is_some() {
        fields.push("description");
    }
    if tags.is_some() {
        fields.push("tags");
    }
    fields.join(", ")
}

impl Applier<'_> {
    fn line(&mut self, property: bool, name: String, done: Done, fields: String) {
        self.report.lines.push(Line {
            property,
            name,
            done,
            fields,
        });
    }

    fn refused(&mut self, name: &str, fields: &'static str, reason: impl Into<String>) {
        self.report.not_accepted.push(NotAccepted {
            name: name.to_owned(),
            fields,
            reason: reason.into(),
        });
    }

    fn event(&mut self, step: EventStep) -> Result<(), ApiError> {
        match step {
            EventStep::Same { name } => self.line(false, name, Done::Unchanged, String::new()),
            EventStep::Create {
                name,
                mut description,
                mut tags,
            } => {
                if self.no_event_descriptions {
                    self.refused(&name, "description, tags", NO_EVENT_DESCRIPTIONS);
                    (description, tags) = (None, None);
                }
                let mut request = body(&description, &tags);
                request["name"] = json!(name);
                let mut answer = self.client.create(Resource::EventDefinitions, &request);
                if matches!(&answer, Err(err) if err.rejects_field("description")) {
                    self.no_event_descriptions = true;
                    self.refused(&name, "description, tags", NO_EVENT_DESCRIPTIONS);
                    (description, tags) = (None, None);
                    answer = self
                        .client
                        .create(Resource::EventDefinitions, &json!({ "name": name }));
                }
                self.finish_event(name, answer, Done::Created, &description, &tags)?;
            }
            EventStep::Update {
                id,
                name,
                mut description,
                mut tags,
            } => {
                if self.tags_dropped && tags.is_some() {
                    self.refused(&name, "tags", TAGS_DROPPED);
                    tags = None;
                }
                if self.no_event_descriptions && description.is_some() {
                    self.refused(&name, "description", NO_EVENT_DESCRIPTIONS);
                    description = None;
                }
                if description.is_none() && tags.is_none() {
                    self.line(false, name, Done::Unchanged, String::new());
                    return Ok(());
                }
                let mut answer =
                    self.client
                        .patch(Resource::EventDefinitions, &id, &body(&description, &tags));
                if matches!(&answer, Err(err) if err.rejects_field("description")) {
                    self.no_event_descriptions = true;
                    self.refused(&name, "description", NO_EVENT_DESCRIPTIONS);
                    description = None;
                    if tags.is_none() {
                        self.line(false, name, Done::Unchanged, String::new());
                        return Ok(());
                    }
                    answer = self.client.patch(
                        Resource::EventDefinitions,
                        &id,
                        &body(&description, &tags),
                    );
                }
                self.finish_event(name, answer, Done::Updated, &description, &tags)?;
            }
        }
        Ok(())
    }

    fn finish_event(
        &mut self,
        name: String,
        answer: Result<Value, ApiError>,
        done: Done,
        description: &Option<String>,
        tags: &Option<Vec<String>>,
    ) -> Result<(), ApiError> {
        match answer {
            Ok(written) => {
                let mut tags = tags.clone();
                let kept = written["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t.as_str() == Some(TAG)));
                if tags.is_some() && !kept {
                    self.tags_dropped = true;
                    self.refused(&name, "tags", TAGS_DROPPED);
                    tags = None;
                }
                let fields = fields(description, &tags);
                self.line(false, name, done, fields);
                Ok(())
            }
            Err(err) if err.is_auth() => Err(err),
            Err(err) => {
                self.line(false, name, Done::Failed(err.to_string()), String::new());
                Ok(())
            }
        }
    }

    fn property(&mut self, step: PropStep) -> Result<(), ApiError> {
        let (id, name, description, property_type) = match step {
            PropStep::Same { name } => {
                self.line(true, name, Done::Unchanged, String::new());
                return Ok(());
            }
            PropStep::Unseen { name } => {
                self.line(true, name, Done::Unseen, String::new());
                return Ok(());
            }
            PropStep::Update {
                id,
                name,
                description,
                property_type,
            } => (id, name, description, property_type),
        };
        let mut request = body(&description, &None);
        if let Some(property_type) = property_type {
            request["property_type"] = json!(property_type);
        }
        let mut fields = fields(&description, &None);
        if property_type.is_some() {
            fields = if fields.is_empty() {
                "property_type".into()
            } else {
                format!("{fields}, property_type")
            };
        }
        match self
            .client
            .patch(Resource::PropertyDefinitions, &id, &request)
        {
            Ok(_) => self.line(true, name, Done::Updated, fields),
            Err(err) if err.is_auth() => return Err(err),
            // EnterpriseFeatureException: the paid taxonomy is needed for these fields.
            Err(err) if err.status() == Some(402) => {
                self.refused(&name, "description, property_type", err.to_string());
                self.line(true, name, Done::Unchanged, String::new());
            }
            Err(err) => self.line(true, name, Done::Failed(err.to_string()), String::new()),
        }
        Ok(())
    }
}
