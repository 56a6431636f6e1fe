//! Comparing the catalog with what PostHog already has, and the steps that close the gap.

use std::collections::BTreeMap;

use serde_json::Value;

use super::api::{ApiError, Client, Resource};
use super::desired::{DesiredEvent, DesiredProperty, TAG};

/// One definition as PostHog lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemoteDef {
    pub id: String,
    /// `None` when the serializer has no `description` field (no enterprise data management).
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub property_type: Option<String>,
}

/// What PostHog has for the catalog's names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Remote {
    pub events: BTreeMap<String, RemoteDef>,
    pub props: BTreeMap<String, RemoteDef>,
    /// Whether listed event definitions carry `description`: PostHog's enterprise serializer
    /// has the field, the open-source one does not. `None` when nothing was listed.
    pub event_descriptions: Option<bool>,
    /// The same for property definitions (enterprise serializer only with the paid taxonomy).
    pub prop_descriptions: Option<bool>,
}

/// Reads the definitions of the catalog's names (event definitions by `names`, event property
/// definitions by `properties`; a server that ignores a filter just sends more, which is dropped
/// here).
pub(crate) fn fetch(
    client: &Client,
    events: &[DesiredEvent],
    props: &[DesiredProperty],
) -> Result<Remote, ApiError> {
    let mut remote = Remote::default();
    let names = join(events.iter().map(|e| e.name.as_str()));
    let listed = client.list(Resource::EventDefinitions, &[("names", &names)])?;
    remote.event_descriptions = described(&listed);
    for item in listed {
        if let Some((name, def)) = remote_def(&item)
            && events.iter().any(|e| e.name == name)
        {
            remote.events.insert(name, def);
        }
    }
    let names = join(props.iter().map(|p| p.name.as_str()));
    let listed = client.list(
        Resource::PropertyDefinitions,
        &[("type", "event"), ("properties", &names)],
    )?;
    remote.prop_descriptions = described(&listed);
    for item in listed {
        if let Some((name, def)) = remote_def(&item)
            && props.iter().any(|p| p.name == name)
        {
            remote.props.insert(name, def);
        }
    }
    Ok(remote)
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(",")
}

fn described(listed: &[Value]) -> Option<bool> {
    listed.first().map(|item| {
        item.as_object()
            .is_some_and(|o| o.contains_key("description"))
    })
}

fn remote_def(item: &Value) -> Option<(String, RemoteDef)> {
    let name = item["name"].as_str()?.to_owned();
    let id = match &item["id"] {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        _ => return None,
    };
    let tags = item["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let description = item
        .get("description")
        .map(|value| value.as_str().unwrap_or_default().to_owned());
    let property_type = item["property_type"].as_str().map(str::to_owned);
    Some((
        name,
        RemoteDef {
            id,
            description,
            tags,
            property_type,
        },
    ))
}

/// What to do about one event definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EventStep {
    /// `POST`: PostHog lets a definition be created before the event is first ingested.
    Create {
        name: String,
        /// `None` where the deployment does not accept descriptions.
        description: Option<String>,
        tags: Option<Vec<String>>,
    },
    /// `PATCH` the fields that differ.
    Update {
        id: String,
        name: String,
        description: Option<String>,
        tags: Option<Vec<String>>,
    },
    /// Already as the catalog says, or nothing this deployment accepts would change it.
    Same { name: String },
}

/// What to do about one property definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PropStep {
    /// `PATCH` the fields that differ.
    Update {
        id: String,
        name: String,
        description: Option<String>,
        property_type: Option<&'static str>,
    },
    /// Already as the catalog says.
    Same { name: String },
    /// PostHog has not ingested it yet, and property definitions cannot be created by the API.
    Unseen { name: String },
}

/// Something the catalog wants that the deployment will not take, known before writing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotAccepted {
    pub name: String,
    pub fields: &'static str,
    pub reason: String,
}

/// The open-source serializers lack the field.
pub(crate) const NO_EVENT_DESCRIPTIONS: &str = "this deployment's event definitions have no \
    description field (PostHog without the enterprise package); tags need a plan with tagging";
pub(crate) const NO_PROPERTY_DESCRIPTIONS: &str = "this deployment's property definitions have no \
    description field (PostHog's paid data management, `ingestion_taxonomy`, is not available)";

/// The steps, in name order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub events: Vec<EventStep>,
    pub props: Vec<PropStep>,
    pub not_accepted: Vec<NotAccepted>,
}

/// The tags an event definition should have: its own plus [`TAG`] (others' tags are kept, as a
/// `PATCH` of `tags` replaces the whole list).
fn with_tag(tags: &[String]) -> Vec<String> {
    let mut tags = tags.to_vec();
    if !tags.iter().any(|t| t == TAG) {
        tags.push(TAG.to_owned());
    }
    tags
}

pub(crate) fn plan(events: &[DesiredEvent], props: &[DesiredProperty], remote: &Remote) -> Plan {
    let mut plan = Plan::default();
    let event_descriptions = remote.event_descriptions != Some(false);
    for event in events {
        let step = match remote.events.get(&event.name) {
            None if event_descriptions => EventStep::Create {
                name: event.name.clone(),
                description: Some(event.description.clone()),
                tags: Some(vec![TAG.to_owned()]),
            },
            None => EventStep::Create {
                name: event.name.clone(),
                description: None,
                tags: None,
            },
            Some(def) if def.description.is_some() => {
                let description = (def.description.as_deref() != Some(event.description.as_str()))
                    .then(|| event.description.clone());
                let tags = (!def.tags.iter().any(|t| t == TAG)).then(|| with_tag(&def.tags));
                if description.is_none() && tags.is_none() {
                    EventStep::Same {
                        name: event.name.clone(),
                    }
                } else {
                    EventStep::Update {
                        id: def.id.clone(),
                        name: event.name.clone(),
                        description,
                        tags,
                    }
                }
            }
            Some(_) => EventStep::Same {
                name: event.name.clone(),
            },
        };
        if !event_descriptions {
            plan.not_accepted.push(NotAccepted {
                name: event.name.clone(),
                fields: "description, tags",
                reason: NO_EVENT_DESCRIPTIONS.to_owned(),
            });
        }
        plan.events.push(step);
    }
    for prop in props {
        let Some(def) = remote.props.get(&prop.name) else {
            plan.props.push(PropStep::Unseen {
                name: prop.name.clone(),
            });
            continue;
        };
        let description = match &def.description {
            Some(have) => (*have != prop.description).then(|| prop.description.clone()),
            None => {
                plan.not_accepted.push(NotAccepted {
                    name: prop.name.clone(),
                    fields: "description",
                    reason: NO_PROPERTY_DESCRIPTIONS.to_owned(),
                });
                None
            }
        };
        let property_type = prop
            .property_type
            .filter(|want| def.property_type.as_deref() != Some(*want));
        plan.props
            .push(if description.is_none() && property_type.is_none() {
                PropStep::Same {
                    name: prop.name.clone(),
                }
            } else {
                PropStep::Update {
                    id: def.id.clone(),
                    name: prop.name.clone(),
                    description,
                    property_type,
                }
            });
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, description: &str) -> DesiredEvent {
        DesiredEvent {
            name: name.into(),
            description: description.into(),
        }
    }

    fn def(description: Option<&str>, tags: &[&str], property_type: Option<&str>) -> RemoteDef {
        RemoteDef {
            id: "0190-id".into(),
            description: description.map(str::to_owned),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            property_type: property_type.map(str::to_owned),
        }
    }

    #[test]
    fn enterprise_events_are_created_updated_or_left_alone() {
        let events = [
            event("a.new", "A is new."),
            event("b.stale", "B, described now."),
            event("c.done", "C is done."),
        ];
        let mut remote = Remote {
            event_descriptions: Some(true),
            ..Remote::default()
        };
        remote
            .events
            .insert("b.stale".into(), def(Some(""), &["team-x"], None));
        remote
            .events
            .insert("c.done".into(), def(Some("C is done."), &[TAG], None));
        let plan = plan(&events, &[], &remote);
        assert!(
            matches!(&plan.events[0], EventStep::Create { description: Some(d), .. } if d == "A is new.")
        );
        assert_eq!(
            plan.events[1],
            EventStep::Update {
                id: "0190-id".into(),
                name: "b.stale".into(),
                description: Some("B, described now.".into()),
                tags: Some(vec!["team-x".into(), TAG.into()]),
            }
        );
        assert_eq!(
            plan.events[2],
            EventStep::Same {
                name: "c.done".into()
            }
        );
        assert!(plan.not_accepted.is_empty());
    }

    #[test]
    fn without_descriptions_events_are_only_created_and_properties_only_typed() {
        let events = [event("a.new", "A is new."), event("b.old", "B is old.")];
        let props = [
            DesiredProperty {
                name: "count".into(),
                description: "A whole number.".into(),
                property_type: Some("Numeric"),
            },
            DesiredProperty {
                name: "never_sent".into(),
                description: "Nope.".into(),
                property_type: Some("String"),
            },
        ];
        let mut remote = Remote {
            event_descriptions: Some(false),
            prop_descriptions: Some(false),
            ..Remote::default()
        };
        remote.events.insert("b.old".into(), def(None, &[], None));
        remote
            .props
            .insert("count".into(), def(None, &[], Some("String")));
        let plan = plan(&events, &props, &remote);
        assert_eq!(
            plan.events[0],
            EventStep::Create {
                name: "a.new".into(),
                description: None,
                tags: None
            }
        );
        assert_eq!(
            plan.events[1],
            EventStep::Same {
                name: "b.old".into()
            }
        );
        assert!(matches!(
            &plan.props[0],
            PropStep::Update {
                description: None,
                property_type: Some("Numeric"),
                ..
            }
        ));
        assert_eq!(
            plan.props[1],
            PropStep::Unseen {
                name: "never_sent".into()
            }
        );
        let refused: Vec<_> = plan
            .not_accepted
            .iter()
            .map(|n| (n.name.as_str(), n.fields))
            .collect();
        assert_eq!(
            refused,
            [
                ("a.new", "description, tags"),
                ("b.old", "description, tags"),
                ("count", "description")
            ]
        );
    }
}
