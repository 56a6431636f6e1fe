//! A small blocking client for PostHog's definition endpoints under `/api/projects/<id>/`.
//!
//! Shapes follow PostHog's Django REST framework views: lists paginate with `limit`/`offset` and
//! answer `{"count", "next", "previous", "results"}`; errors answer
//! `{"type", "code", "detail", "attr"}`; a personal API key goes in `Authorization: Bearer`.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::Config;

/// The two definition collections of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    EventDefinitions,
    PropertyDefinitions,
}

impl Resource {
    fn segment(self) -> &'static str {
        match self {
            Resource::EventDefinitions => "event_definitions",
            Resource::PropertyDefinitions => "property_definitions",
        }
    }
}

/// PostHog's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub kind: String,
    pub code: String,
    pub detail: String,
    pub attr: Option<String>,
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// PostHog answered with an error status.
    Status { status: u16, body: ErrorBody },
    /// No answer (connection refused, timeout, TLS).
    Transport(String),
    /// An answer that is not what the API documents.
    Unexpected(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A 401 or 403: nothing else will work either.
    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(401 | 403))
    }

    /// A 400 naming `attr` as the field at fault.
    pub fn rejects_field(&self, attr: &str) -> bool {
        matches!(self, ApiError::Status { status: 400, body } if body.attr.as_deref() == Some(attr))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status { status, body } => {
                write!(f, "HTTP {status}")?;
                if !body.code.is_empty() {
                    write!(f, " {}", body.code)?;
                }
                if !body.detail.is_empty() {
                    write!(f, ": {}", body.detail)?;
                }
                if let Some(attr) = &body.attr {
                    write!(f, " (field `{attr}`)")?;
                }
                Ok(())
            }
            ApiError::Transport(err) => write!(f, "no answer: {err}"),
            ApiError::Unexpected(err) => write!(f, "unexpected answer: {err}"),
        }
    }
}

/// The client. Holds the key; has no `Debug`, so the key cannot end up in a log by accident.
pub(crate) struct Client {
    http: reqwest::blocking::Client,
    base: Url,
    project: String,
    token: String,
    /// Requests that changed something, for the summary.
    pub writes: usize,
}

impl Client {
    pub fn new(config: &Config) -> Result<Client, String> {
        let base = Url::parse(&config.host)
            .map_err(|err| format!("POSTHOG_CLI_HOST {:?} is not a URL: {err}", config.host))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(format!(
                "POSTHOG_CLI_HOST {:?} must start with https:// (or http://)",
                config.host
            ));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!(
                "telemetry-core/",
                env!("CARGO_PKG_VERSION"),
                " catalog-push"
            ))
            .build()
            .map_err(|err| format!("cannot build the HTTP client: {err}"))?;
        Ok(Client {
            http,
            base,
            project: config.project.clone(),
            token: config.token.clone(),
            writes: 0,
        })
    }

    fn collection_url(&self, resource: Resource) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!(
            "/api/projects/{}/{}/",
            self.project,
            resource.segment()
        ));
        url
    }

    /// Every item of a list, following `next` page by page. `query` narrows the list where the
    /// server supports it; callers still filter what comes back.
    pub fn list(&self, resource: Resource, query: &[(&str, &str)]) -> Result<Vec<Value>, ApiError> {
        let mut url = self.collection_url(resource);
        url.query_pairs_mut().extend_pairs(query);
        let mut items = Vec::new();
        // A server that keeps answering `next` must not keep us here forever.
        for _ in 0..10_000 {
            let page = self.send(self.http.get(url.clone()))?;
            let results = page["results"].as_array().ok_or_else(|| {
                ApiError::Unexpected(format!("{} list without `results`", resource.segment()))
            })?;
            items.extend(results.iter().cloned());
            match page["next"].as_str() {
                Some(next) if !next.is_empty() => url = self.same_origin(next)?,
                _ => return Ok(items),
            }
        }
        Err(ApiError::Unexpected(format!(
            "{} list did not end after 10000 pages",
            resource.segment()
        )))
    }

    /// The page after this one, on the configured host: the key is only ever sent there, even
    /// when a proxy makes PostHog write another host into `next`.
    fn same_origin(&self, next: &str) -> Result<Url, ApiError> {
        let parsed = Url::parse(next)
            .or_else(|_| self.base.join(next))
            .map_err(|err| ApiError::Unexpected(format!("`next` {next:?} is not a URL: {err}")))?;
        let mut url = self.base.clone();
        url.set_path(parsed.path());
        url.set_query(parsed.query());
        Ok(url)
    }

    /// `PATCH <collection>/<id>/`.
    pub fn patch(&mut self, resource: Resource, id: &str, body: &Value) -> Result<Value, ApiError> {
        let mut url = self.collection_url(resource);
        url.set_path(&format!("{}{}/", url.path(), id));
        let answer = self.send(self.http.patch(url).json(body));
        if answer.is_ok() {
            self.writes += 1;
        }
        answer
    }

    /// `POST <collection>/`.
    pub fn create(&mut self, resource: Resource, body: &Value) -> Result<Value, ApiError> {
        let url = self.collection_url(resource);
        let answer = self.send(self.http.post(url).json(body));
        if answer.is_ok() {
            self.writes += 1;
        }
        answer
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder) -> Result<Value, ApiError> {
        let response = request
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .map_err(|err| ApiError::Transport(err.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .map_err(|err| ApiError::Transport(err.without_url().to_string()))?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if status.is_success() {
            return json.ok_or_else(|| {
                ApiError::Unexpected(format!(
                    "HTTP {} with a body that is not JSON",
                    status.as_u16()
                ))
            });
        }
        Err(ApiError::Status {
            status: status.as_u16(),
            body: json.map(|v| error_body(&v)).unwrap_or_else(|| ErrorBody {
                detail: status.canonical_reason().unwrap_or("error").to_owned(),
                ..ErrorBody::default()
            }),
        })
    }
}

fn error_body(value: &Value) -> ErrorBody {
    let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
    ErrorBody {
        kind: text("type"),
        code: text("code"),
        detail: text("detail"),
        attr: value["attr"].as_str().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_names_status_code_detail_and_field() {
        let err = ApiError::Status {
            status: 400,
            body: error_body(&serde_json::json!({
                "type": "validation_error",
                "code": "invalid_input",
                "detail": "This field is not supported by this deployment.",
                "attr": "description",
            })),
        };
        assert!(err.rejects_field("description"));
        assert!(!err.is_auth());
        assert_eq!(
            err.to_string(),
            "HTTP 400 invalid_input: This field is not supported by this deployment. (field `description`)"
        );
    }

    #[test]
    fn next_links_stay_on_the_configured_host() {
        let config = Config {
            token: "phx_secret".into(),
            project: "7".into(),
            host: "https://eu.posthog.com".into(),
        };
        let client = Client::new(&config).unwrap();
        let url = client
            .same_origin(
                "http://internal:8000/api/projects/7/event_definitions/?limit=100&offset=100",
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://eu.posthog.com/api/projects/7/event_definitions/?limit=100&offset=100"
        );
    }
}
