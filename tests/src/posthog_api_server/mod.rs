//! A real HTTP server on 127.0.0.1 that speaks PostHog's definition API, for
//! `--telemetry-catalog=push` tests.
//!
//! Re-created from PostHog's source (PostHog/posthog), not from what the client sends:
//!
//! - routes (`posthog/api/__init__.py`, DRF router with trailing slashes):
//!   `/api/projects/<id>/event_definitions/[<uuid>/]` and `.../property_definitions/[<uuid>/]`;
//! - `posthog/api/event_definition.py`: `EventDefinitionViewSet` allows list, retrieve, create
//!   (`POST`, a definition before the event is ingested, `created_at`/`last_seen_at` null),
//!   update and destroy; the list filters by `names` (repeated or comma-separated), orders by
//!   `last_seen_at` descending (nulls last) then `name`, and pages with `limit`/`offset`
//!   (default page size 100). The open-source `EventDefinitionSerializer` has no `description`
//!   field and its `validate` rejects `description`, `verified` and `hidden` with 400
//!   "This field is not supported by this deployment."; it rejects a `POST` of an existing name;
//! - `ee/api/ee_event_definition.py`: `EnterpriseEventDefinitionSerializer` (used when the
//!   enterprise package is there) adds `description`, `owner`, `verified`, `hidden`, ...;
//! - `posthog/api/tagged_item.py`: tags are written only when the organisation has tagging
//!   (licensed); otherwise they are dropped silently and read back as `[]`;
//! - `posthog/api/property_definition.py`: `PropertyDefinitionViewSet` has no create mixin, so
//!   `POST` answers 405; the list takes `type` (default `event`) and `properties`
//!   (comma-separated names), orders by name, pages with `limit`/`offset`. The open-source
//!   serializer has no `description` (an unknown field is ignored by DRF); its `update` lets a
//!   free organisation change `property_type` alone and raises `EnterpriseFeatureException`
//!   (402) for anything else, including a body that changes nothing;
//! - `ee/api/ee_property_definition.py`: `description`, `tags`, `property_type`, `verified`,
//!   `hidden` writable; `property_type == "Numeric"` sets `is_numerical`;
//! - errors through drf-exceptions-hog: `{"type", "code", "detail", "attr"}`: 401
//!   `authentication_error`/`authentication_failed` ("Personal API key found in request
//!   Authorization header is invalid.") or `not_authenticated`; 403 `permission_denied` for a key
//!   without the write scope; 404 `not_found`; 405 `invalid_request`/`method_not_allowed`;
//!   400 `validation_error` with `attr`; 402 `payment_required`. Authentication is checked
//!   before the method, as DRF's `initial()` runs before the handler lookup.
//!
//! Property types accepted are PostHog's `PropertyType`: `DateTime`, `String`, `Numeric`,
//! `Boolean`, `Duration`.

mod drf;
mod http;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use drf::{error, method_not_allowed, not_found, page};
use http::{Incoming, parse_query};

use serde_json::{Map, Value, json};

const PROPERTY_TYPES: [&str; 5] = ["DateTime", "String", "Numeric", "Boolean", "Duration"];
const PAYMENT_REQUIRED: &str = "This feature is part of the premium PostHog offering. Self-hosted \
    licenses are no longer available for purchase. Please contact sales@posthog.com to discuss options.";

/// One event or property definition as the server stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    /// A UUID.
    pub id: String,
    /// The event or property name.
    pub name: String,
    /// Empty unless set through the enterprise serializer.
    pub description: String,
    /// Tag names.
    pub tags: Vec<String>,
    /// Properties only: PostHog's type name.
    pub property_type: Option<String>,
    /// When ingestion last saw it; `None` for a definition created through the API.
    pub last_seen_at: Option<String>,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: String,
    /// Path with query.
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// Every header line, lowercased names, for checks that the key went only where it should.
    pub headers: Vec<(String, String)>,
}

struct State {
    project: String,
    /// Keys with whether they may write.
    keys: Vec<(String, bool)>,
    enterprise: bool,
    page_size: usize,
    events: Vec<Definition>,
    props: Vec<Definition>,
    log: Vec<Request>,
    next_id: u64,
}

/// The running server (it stops with the test process).
pub struct PostHogApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl PostHogApiServer {
    /// An enterprise deployment (descriptions and tags accepted) with one project and one
    /// personal API key that may read and write definitions.
    pub fn start(project: &str, key: &str) -> PostHogApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            project: project.to_owned(),
            keys: vec![(key.to_owned(), true)],
            enterprise: true,
            page_size: 100,
            events: Vec::new(),
            props: Vec::new(),
            log: Vec::new(),
            next_id: 1,
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || http::serve(stream, |request| handle(&state, request)));
            }
        });
        PostHogApiServer { addr, state }
    }

    /// `http://127.0.0.1:<port>`, for `POSTHOG_CLI_HOST`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Without PostHog's enterprise package: the open-source serializers, no tagging.
    pub fn open_source(self) -> PostHogApiServer {
        self.state.lock().unwrap().enterprise = false;
        self
    }

    /// The default page size of lists (PostHog's is 100).
    pub fn page_size(self, size: usize) -> PostHogApiServer {
        self.state.lock().unwrap().page_size = size.max(1);
        self
    }

    /// Another valid key, without the `*_definition:write` scopes.
    pub fn read_only_key(self, key: &str) -> PostHogApiServer {
        self.state
            .lock()
            .unwrap()
            .keys
            .push((key.to_owned(), false));
        self
    }

    /// What ingestion does on the first event with this name.
    pub fn ingest_event(&self, name: &str) {
        let mut state = self.state.lock().unwrap();
        let id = state.new_id();
        state.events.push(Definition {
            id,
            name: name.to_owned(),
            description: String::new(),
            tags: Vec::new(),
            property_type: None,
            last_seen_at: Some("2025-01-01T00:00:00Z".into()),
        });
    }

    /// What ingestion does on the first event carrying this property (with the type it infers).
    pub fn ingest_property(&self, name: &str, inferred_type: Option<&str>) {
        let mut state = self.state.lock().unwrap();
        let id = state.new_id();
        state.props.push(Definition {
            id,
            name: name.to_owned(),
            description: String::new(),
            tags: Vec::new(),
            property_type: inferred_type.map(str::to_owned),
            last_seen_at: Some("2025-01-01T00:00:00Z".into()),
        });
    }

    /// The stored event definition with this name.
    pub fn event(&self, name: &str) -> Option<Definition> {
        let state = self.state.lock().unwrap();
        state.events.iter().find(|d| d.name == name).cloned()
    }

    /// The stored property definition with this name.
    pub fn property(&self, name: &str) -> Option<Definition> {
        let state = self.state.lock().unwrap();
        state.props.iter().find(|d| d.name == name).cloned()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
    }

    /// Requests that were not `GET`.
    pub fn writes(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("0190a1b2-c3d4-7e5f-8a9b-{:012x}", self.next_id)
    }
}

fn handle(state: &Mutex<State>, request: Incoming<'_>) -> (u16, Value) {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut state = state.lock().unwrap();
    let answer = route(
        &mut state,
        request.method,
        request.path,
        header("host").unwrap_or_default(),
        header("authorization"),
        request.body,
    );
    state.log.push(Request {
        method: request.method.to_owned(),
        path: request.path.to_owned(),
        status: answer.0,
        headers: request.headers.to_vec(),
    });
    answer
}

fn route(
    state: &mut State,
    method: &str,
    path: &str,
    host: &str,
    auth: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
    let segments: Vec<&str> = path_only.trim_matches('/').split('/').collect();
    let (project, resource, id) = match segments.as_slice() {
        ["api", "projects", project, resource] => (*project, *resource, None),
        ["api", "projects", project, resource, id] => (*project, *resource, Some(*id)),
        _ => return not_found(),
    };
    if !path_only.ends_with('/')
        || !matches!(resource, "event_definitions" | "property_definitions")
    {
        return not_found();
    }
    let Some(token) = auth.and_then(|a| a.strip_prefix("Bearer ")) else {
        return error(
            401,
            "authentication_error",
            "not_authenticated",
            "Authentication credentials were not provided.",
            None,
        );
    };
    let Some(&(_, may_write)) = state.keys.iter().find(|(k, _)| k == token) else {
        return error(
            401,
            "authentication_error",
            "authentication_failed",
            "Personal API key found in request Authorization header is invalid.",
            None,
        );
    };
    if project != state.project {
        return not_found();
    }
    let events = resource == "event_definitions";
    if method != "GET" && !may_write {
        let scope = if events {
            "event_definition"
        } else {
            "property_definition"
        };
        let detail = format!("API key missing required scope '{scope}:write'");
        return error(
            403,
            "authentication_error",
            "permission_denied",
            &detail,
            None,
        );
    }
    let params = parse_query(query);
    match (events, id, method) {
        (_, None, "GET") => list(state, events, path_only, host, &params),
        (true, None, "POST") => create_event(state, body),
        (_, Some(id), "GET") => match find(state, events, id) {
            Some(i) => (200, represent(state, events, i)),
            None => not_found(),
        },
        (true, Some(id), "PATCH") => update_event(state, id, body),
        (false, Some(id), "PATCH") => update_property(state, id, body),
        (_, _, method) => method_not_allowed(method),
    }
}

fn find(state: &State, events: bool, id: &str) -> Option<usize> {
    let defs = if events { &state.events } else { &state.props };
    defs.iter().position(|d| d.id == id)
}

fn list(
    state: &State,
    events: bool,
    path: &str,
    host: &str,
    params: &[(String, String)],
) -> (u16, Value) {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let number = |key: &str, default: usize| match get(key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| {
            error(
                400,
                "validation_error",
                "invalid",
                "A valid integer is required.",
                Some(key),
            )
        }),
    };
    let limit = match number("limit", state.page_size) {
        Ok(limit) => limit.max(1),
        Err(err) => return err,
    };
    let offset = match number("offset", 0) {
        Ok(offset) => offset,
        Err(err) => return err,
    };
    let filter_key = if events { "names" } else { "properties" };
    let names: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == filter_key)
        .flat_map(|(_, v)| v.split(',').filter(|n| !n.is_empty()).map(str::to_owned))
        .collect();
    if !events && get("type").is_some_and(|t| t != "event") {
        // Only event properties are stored here; person/group/session lists are empty.
        return page(Vec::new(), 0, limit, offset, path, host, params);
    }
    let defs = if events { &state.events } else { &state.props };
    let mut indices: Vec<usize> = (0..defs.len())
        .filter(|&i| names.is_empty() || names.contains(&defs[i].name))
        .collect();
    if events {
        // `-last_seen_at::date, name`, nulls last.
        indices.sort_by(|&a, &b| {
            let (a, b) = (&defs[a], &defs[b]);
            b.last_seen_at
                .is_some()
                .cmp(&a.last_seen_at.is_some())
                .then(b.last_seen_at.cmp(&a.last_seen_at))
                .then(a.name.cmp(&b.name))
        });
    } else {
        indices.sort_by(|&a, &b| defs[a].name.cmp(&defs[b].name));
    }
    let count = indices.len();
    let results = indices
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|i| represent(state, events, i))
        .collect();
    page(results, count, limit, offset, path, host, params)
}

fn represent(state: &State, events: bool, i: usize) -> Value {
    let def = if events {
        &state.events[i]
    } else {
        &state.props[i]
    };
    let tags = if state.enterprise {
        json!(def.tags)
    } else {
        json!([])
    };
    let mut out = Map::new();
    out.insert("id".into(), json!(def.id));
    out.insert("name".into(), json!(def.name));
    out.insert("tags".into(), tags);
    if events {
        out.insert("created_at".into(), json!(def.last_seen_at));
        out.insert("last_seen_at".into(), json!(def.last_seen_at));
        out.insert("last_updated_at".into(), json!(def.last_seen_at));
        out.insert("is_action".into(), json!(false));
        out.insert("post_to_slack".into(), json!(false));
        if state.enterprise {
            out.insert("description".into(), json!(def.description));
            out.insert("owner".into(), Value::Null);
            out.insert("verified".into(), json!(false));
            out.insert("hidden".into(), json!(false));
        }
    } else {
        out.insert(
            "is_numerical".into(),
            json!(def.property_type.as_deref() == Some("Numeric")),
        );
        out.insert("property_type".into(), json!(def.property_type));
        out.insert("is_seen_on_filtered_events".into(), Value::Null);
        if state.enterprise {
            out.insert("description".into(), json!(def.description));
            out.insert("verified".into(), json!(false));
            out.insert("hidden".into(), json!(false));
        }
    }
    Value::Object(out)
}

/// The open-source event serializer's `validate`.
fn unsupported_metadata(state: &State, body: &Value) -> Option<(u16, Value)> {
    if state.enterprise {
        return None;
    }
    ["description", "verified", "hidden"]
        .into_iter()
        .find(|f| body.get(*f).is_some())
        .map(|field| {
            error(
                400,
                "validation_error",
                "invalid_input",
                "This field is not supported by this deployment.",
                Some(field),
            )
        })
}

fn tags_of(body: &Value) -> Option<Vec<String>> {
    body.get("tags")?.as_array().map(|tags| {
        let mut tags: Vec<String> = tags
            .iter()
            .filter_map(|t| t.as_str().map(|t| t.trim().to_lowercase()))
            .collect();
        tags.sort();
        tags.dedup();
        tags
    })
}

fn create_event(state: &mut State, body: &Value) -> (u16, Value) {
    if let Some(rejected) = unsupported_metadata(state, body) {
        return rejected;
    }
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(
            400,
            "validation_error",
            "required",
            "This field is required.",
            Some("name"),
        );
    };
    if state.events.iter().any(|d| d.name == name) {
        let detail = format!("Event definition with name '{name}' already exists");
        return error(
            400,
            "validation_error",
            "invalid_input",
            &detail,
            Some("name"),
        );
    }
    let id = state.new_id();
    let enterprise = state.enterprise;
    state.events.push(Definition {
        id,
        name: name.to_owned(),
        description: body["description"].as_str().unwrap_or_default().to_owned(),
        // Unlicensed tagging: dropped silently.
        tags: if enterprise {
            tags_of(body).unwrap_or_default()
        } else {
            Vec::new()
        },
        property_type: None,
        last_seen_at: None,
    });
    let i = state.events.len() - 1;
    (201, represent(state, true, i))
}

fn update_event(state: &mut State, id: &str, body: &Value) -> (u16, Value) {
    let Some(i) = find(state, true, id) else {
        return not_found();
    };
    if let Some(rejected) = unsupported_metadata(state, body) {
        return rejected;
    }
    if state.enterprise {
        if let Some(description) = body["description"].as_str() {
            state.events[i].description = description.to_owned();
        }
        if let Some(tags) = tags_of(body) {
            state.events[i].tags = tags;
        }
    }
    (200, represent(state, true, i))
}

fn update_property(state: &mut State, id: &str, body: &Value) -> (u16, Value) {
    let Some(i) = find(state, false, id) else {
        return not_found();
    };
    let property_type = match body.get("property_type") {
        None => None,
        Some(Value::String(t)) if PROPERTY_TYPES.contains(&t.as_str()) => Some(t.clone()),
        Some(other) => {
            let detail = format!(
                "\"{}\" is not a valid choice.",
                other.as_str().unwrap_or_default()
            );
            return error(
                400,
                "validation_error",
                "invalid_choice",
                &detail,
                Some("property_type"),
            );
        }
    };
    if !state.enterprise {
        // Free organisations may change `property_type` alone; `description` is no field here.
        let def = &state.props[i];
        let type_changes = property_type.is_some() && property_type != def.property_type;
        let tags_change = tags_of(body).is_some_and(|t| !t.is_empty());
        if !type_changes || tags_change {
            return error(
                402,
                "server_error",
                "payment_required",
                PAYMENT_REQUIRED,
                None,
            );
        }
        state.props[i].property_type = property_type;
        return (200, represent(state, false, i));
    }
    if let Some(description) = body["description"].as_str() {
        state.props[i].description = description.to_owned();
    }
    if let Some(tags) = tags_of(body) {
        state.props[i].tags = tags;
    }
    if property_type.is_some() {
        state.props[i].property_type = property_type;
    }
    (200, represent(state, false, i))
}
