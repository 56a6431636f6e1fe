//! Test harness: drives the router in-process with a cookie jar and CSRF handling.

#![allow(dead_code)] // `allow`, not `expect`: each test binary uses a different part

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use telemetry_core::EnvConfig;
use telemetry_core::testing::RecordedEvent;
use telemetry_core::{Telemetry, TelemetryBuilder};
use timetracker::auth::{PasswordCost, User};
use timetracker::{AppState, Config, Database};
use tower::ServiceExt;

/// The admin created by [`TestApp::ready`].
pub const ADMIN: &str = "admin";
/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery";

/// A fresh directory under the test target dir.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "timetracker-{name}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

/// A telemetry builder isolated from the environment and the user's data dir.
pub fn telemetry_builder(dir: &std::path::Path) -> TelemetryBuilder {
    Telemetry::builder()
        .app("timetracker", env!("CARGO_PKG_VERSION"))
        .env(EnvConfig::default())
        .state_dir(dir.join("state"))
        .jsonl_path(dir.join("telemetry.jsonl"))
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The id field of a JSON body.
    pub fn id(&self) -> i64 {
        self.json()["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.text()))
    }
}

/// Percent-encodes a form value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Extracts the CSRF token from a rendered form.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// One browser-like client of one app instance.
pub struct TestApp {
    pub state: AppState,
    pub telemetry: Telemetry,
    router: Router,
    /// The cookie jar: name to value.
    cookies: BTreeMap<String, String>,
    csrf: Option<String>,
}

impl TestApp {
    /// A fresh app: in-memory database, its own telemetry (off), setup not done.
    pub fn new() -> TestApp {
        let dir = temp_dir("app");
        TestApp::with(Database::Memory, telemetry_builder(&dir).install())
    }

    /// An app on the given database and telemetry.
    pub fn with(database: Database, telemetry: Telemetry) -> TestApp {
        let mut config = Config::new(database, telemetry);
        config.password_cost = PasswordCost::Minimal;
        TestApp::from_config(config)
    }

    /// An app with this configuration (tests should keep `PasswordCost::Minimal`).
    pub fn from_config(config: Config) -> TestApp {
        let telemetry = config.telemetry.clone();
        let state = AppState::new(config).expect("app state");
        TestApp {
            router: timetracker::app(state.clone()),
            state,
            telemetry,
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    /// A fresh app with setup completed (telemetry left off) and the admin logged in.
    pub async fn ready() -> TestApp {
        let mut app = TestApp::new();
        let resp = app.complete_setup(ADMIN, PASSWORD, false).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.text());
        app
    }

    /// Another client (no cookies) of the same app.
    pub fn new_client(&self) -> TestApp {
        TestApp {
            state: self.state.clone(),
            telemetry: self.telemetry.clone(),
            router: self.router.clone(),
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    /// Sends a request with the jar's cookies; keeps the cookies the app sets.
    pub async fn send(&mut self, mut req: Request<Body>) -> Resp {
        if !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            req.headers_mut()
                .insert(header::COOKIE, header.parse().unwrap());
        }
        let response = self.router.clone().oneshot(req).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("reading the body")
            .to_vec();
        for value in parts.headers.get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let Some((name, rest)) = value.split_once('=') else {
                continue;
            };
            let cookie = rest.split(';').next().unwrap_or_default();
            if cookie.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), cookie.to_owned());
            }
            if name == timetracker::auth::SESSION_COOKIE {
                self.csrf = None;
            }
        }
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The value of a cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let req = Request::get(path).body(Body::empty()).unwrap();
        self.send(req).await
    }

    /// The session's CSRF token (from a page's form before setup, from the API after).
    pub async fn csrf(&mut self) -> String {
        if let Some(csrf) = &self.csrf {
            return csrf.clone();
        }
        let csrf = if self.state.setup_complete() {
            let resp = self.get("/api/session").await;
            assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
            resp.json()["csrf_token"].as_str().unwrap().to_owned()
        } else {
            let resp = self.get("/setup").await;
            csrf_in(&resp.text()).expect("the setup page has a CSRF token")
        };
        self.csrf = Some(csrf.clone());
        csrf
    }

    /// Posts a form without any CSRF token.
    pub async fn form_without_csrf(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Posts a form with the session's CSRF token.
    pub async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.form_without_csrf(path, &all).await
    }

    /// A JSON API call with the CSRF header on state-changing methods.
    pub async fn api(&mut self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = Request::builder().method(method.clone()).uri(path);
        if method != Method::GET {
            let csrf = self.csrf().await;
            req = req.header(timetracker::auth::CSRF_HEADER, csrf);
        }
        let req = match body {
            Some(body) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn post_json(&mut self, path: &str, body: Value) -> Resp {
        self.api(Method::POST, path, Some(body)).await
    }

    /// Submits the setup page.
    pub async fn complete_setup(
        &mut self,
        username: &str,
        password: &str,
        telemetry: bool,
    ) -> Resp {
        let mut fields = vec![("username", username), ("password", password)];
        if telemetry {
            fields.push(("telemetry_enabled", "on"));
        }
        self.form("/setup", &fields).await
    }

    /// Creates an account directly in the database.
    pub async fn add_user(&self, username: &str, is_admin: bool) -> User {
        let hash = timetracker::auth::hash_password(PasswordCost::Minimal, PASSWORD).unwrap();
        let username = username.to_owned();
        self.state
            .db
            .call(move |conn| timetracker::auth::insert_user(conn, &username, &hash, is_admin))
            .await
            .unwrap()
    }

    /// Logs in through the JSON API.
    pub async fn login(&mut self, username: &str, password: &str) -> Resp {
        let body = serde_json::json!({ "username": username, "password": password });
        self.post_json("/api/login", body).await
    }

    /// A new client logged in as a new non-admin user.
    pub async fn as_new_user(&self, username: &str) -> (TestApp, User) {
        let user = self.add_user(username, false).await;
        let mut client = self.new_client();
        let resp = client.login(username, PASSWORD).await;
        assert_eq!(resp.status, StatusCode::OK, "{}", resp.text());
        (client, user)
    }

    /// The logged-in admin's user record.
    pub async fn admin(&self) -> User {
        self.state
            .db
            .call(|conn| {
                Ok(timetracker::auth::list_users(conn)?
                    .into_iter()
                    .find(|u| u.username == ADMIN)
                    .unwrap())
            })
            .await
            .unwrap()
    }

    /// Creates a project through the API and returns its id.
    pub async fn project(&mut self) -> i64 {
        let resp = self
            .post_json("/api/projects", serde_json::json!({ "name": "Website" }))
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
        resp.id()
    }

    /// Creates a task through the API and returns its id.
    pub async fn task(&mut self, project_id: i64) -> i64 {
        let resp = self
            .post_json(
                "/api/tasks",
                serde_json::json!({ "project_id": project_id, "name": "Landing page" }),
            )
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.text());
        resp.id()
    }
}

/// Awaits `future` and returns its output with the events it emitted.
pub async fn record<F: Future>(future: F) -> (F::Output, Vec<RecordedEvent>) {
    telemetry_core::testing::record_async_with(future).await
}

/// The names of recorded events, in order.
pub fn names(events: &[RecordedEvent]) -> Vec<&'static str> {
    events.iter().map(|e| e.name).collect()
}

/// Asserts exactly one event, with this name and exactly these properties.
pub fn assert_single(events: &[RecordedEvent], name: &str, props: Value) -> RecordedEvent {
    assert_eq!(names(events), vec![name], "events: {events:#?}");
    let event = events[0].clone();
    assert_eq!(
        Value::Object(event.properties.clone()),
        props,
        "properties of {name}"
    );
    event
}

/// Asserts that the event belongs to `user`, sent only as the salted hash of the id.
pub fn assert_user(event: &RecordedEvent, user: &User) {
    assert_eq!(event.distinct_id, telemetry_core::testing::hash(user.id));
    assert_ne!(event.distinct_id, user.id.to_string());
    assert_eq!(event.distinct_id.len(), 64);
}
