//! A real HTTP server on 127.0.0.1 that speaks PostHog's feature-flag API as posthog-rs calls
//! it, next to the capture API, on one host (posthog-rs sends both to `POSTHOG_HOST`).
//!
//! - `POST /flags/?v=2` (posthog-rs 0.30 `Endpoint::Flags`), a JSON body
//!   `{"api_key", "distinct_id", "person_properties"?, "groups"?, "group_properties"?,
//!   "disable_geoip"?}`. Answered in the v2 shape PostHog sends and posthog-rs parses
//!   (`FeatureFlagsResponse::V2`): `{"flags": {key: {"key", "enabled", "variant", "reason",
//!   "metadata": {"id", "version", "description", "payload"}}}, "errorsWhileComputingFlags",
//!   "requestId"}`, where `payload` is the payload as a JSON *string*, as PostHog stores it.
//!   The older shape posthog-rs also parses (`featureFlags` / `featureFlagPayloads`) is
//!   available with [`FlagsServer::set_legacy`]. A blank `api_key` is answered `401` like
//!   PostHog's `authentication_error`.
//! - Any other path (`/batch/`): a capture, recorded and answered `200 {"status": 1}`.

use std::io::BufReader;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::capture_server::{Received, read_request, respond, spawn_accept_loop};

/// What `/flags` says about the flag under test.
#[derive(Debug, Clone, PartialEq)]
pub enum Flag {
    /// The flag is in the answer, enabled or not, with an optional JSON payload.
    Known {
        /// Whether it is enabled for the distinct id.
        enabled: bool,
        /// Its payload (sent as a JSON string in the v2 shape).
        payload: Option<Value>,
    },
    /// The answer does not contain the flag (deleted, or never created).
    Unknown,
    /// `/flags` answers this HTTP status with an error body.
    Status(u16),
}

impl Flag {
    /// Enabled, no payload.
    pub fn on() -> Flag {
        Flag::Known {
            enabled: true,
            payload: None,
        }
    }

    /// Disabled for this distinct id.
    pub fn off() -> Flag {
        Flag::Known {
            enabled: false,
            payload: None,
        }
    }

    /// Enabled, with the payload `{"drop": events}`.
    pub fn dropping(events: &[&str]) -> Flag {
        Flag::Known {
            enabled: true,
            payload: Some(json!({ "drop": events })),
        }
    }
}

#[derive(Default)]
struct Log {
    flag_requests: Vec<Received>,
    captures: Vec<Received>,
}

struct Shared {
    key: String,
    flag: Mutex<Flag>,
    legacy: AtomicBool,
    /// `/flags` requests wait (recorded, unanswered) while this is set.
    hold: AtomicBool,
    log: Mutex<Log>,
    changed: Condvar,
    stopped: AtomicBool,
}

/// The running server. Dropping it stops accepting connections.
pub struct FlagsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FlagsServer {
    /// Starts a server on a free loopback port that answers for the flag `key` as `flag`
    /// (plus one unrelated enabled flag, as a real project has).
    pub fn start(key: &str, flag: Flag) -> FlagsServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            key: key.to_owned(),
            flag: Mutex::new(flag),
            legacy: AtomicBool::new(false),
            hold: AtomicBool::new(false),
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            stopped: AtomicBool::new(false),
        });
        spawn_accept_loop(
            "flags-server",
            listener,
            shared.clone(),
            |s: &Shared| s.stopped.load(Ordering::Relaxed),
            serve,
        );
        FlagsServer { addr, shared }
    }

    /// A URL for `POSTHOG_HOST`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes what later `/flags` requests are answered.
    pub fn set_flag(&self, flag: Flag) {
        *self.shared.flag.lock().unwrap() = flag;
    }

    /// Answers in the legacy shape (`featureFlags` / `featureFlagPayloads`) from now on.
    pub fn set_legacy(&self, legacy: bool) {
        self.shared.legacy.store(legacy, Ordering::Relaxed);
    }

    /// Holds `/flags` requests unanswered (a slow flags service) until [`release`] is called.
    ///
    /// [`release`]: FlagsServer::release
    pub fn hold(&self) {
        self.shared.hold.store(true, Ordering::SeqCst);
    }

    /// Answers the held `/flags` requests, and later ones at once.
    pub fn release(&self) {
        self.shared.hold.store(false, Ordering::SeqCst);
    }

    /// Every `/flags` request, in order.
    pub fn flag_requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().flag_requests.clone()
    }

    /// Every event of every capture request.
    pub fn events(&self) -> Vec<Value> {
        let log = self.shared.log.lock().unwrap();
        log.captures.iter().flat_map(Received::events).collect()
    }

    /// Capture requests received.
    pub fn capture_requests(&self) -> usize {
        self.shared.log.lock().unwrap().captures.len()
    }

    /// Waits until at least `n` `/flags` requests arrived, or `timeout`; returns the count.
    pub fn wait_for_flag_requests(&self, n: usize, timeout: Duration) -> usize {
        self.wait(timeout, |log| log.flag_requests.len() >= n);
        self.shared.log.lock().unwrap().flag_requests.len()
    }

    /// Waits until at least `n` events arrived, or `timeout`; returns them.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> Vec<Value> {
        self.wait(timeout, |log| {
            log.captures.iter().map(|r| r.events().len()).sum::<usize>() >= n
        });
        self.events()
    }

    fn wait(&self, timeout: Duration, done: impl Fn(&Log) -> bool) {
        let deadline = Instant::now() + timeout;
        let mut log = self.shared.log.lock().unwrap();
        while !done(&log) {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            log = self
                .shared
                .changed
                .wait_timeout(log, deadline - now)
                .unwrap()
                .0;
        }
    }
}

impl Drop for FlagsServer {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let is_flags = request.path.starts_with("/flags");
        {
            let mut log = shared.log.lock().unwrap();
            if is_flags {
                log.flag_requests.push(request.clone());
            } else {
                log.captures.push(request.clone());
            }
            shared.changed.notify_all();
        }
        while is_flags
            && shared.hold.load(Ordering::SeqCst)
            && !shared.stopped.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let (status, body) = if is_flags {
            flags_answer(shared, &request)
        } else {
            (200, json!({ "status": 1 }))
        };
        let reason = if status == 200 { "OK" } else { "Error" };
        if !respond(
            &mut writer,
            status,
            reason,
            &[],
            body.to_string().as_bytes(),
        ) {
            return;
        }
    }
}

/// The answer to one `/flags` request.
fn flags_answer(shared: &Shared, request: &Received) -> (u16, Value) {
    let api_key = request.body["api_key"].as_str().unwrap_or("");
    if api_key.trim().is_empty() {
        return (
            401,
            json!({
                "type": "authentication_error",
                "code": "invalid_api_key",
                "detail": "Project API key invalid. You can find your project API key in your PostHog project settings.",
                "attr": null
            }),
        );
    }
    let flag = shared.flag.lock().unwrap().clone();
    let mut known = vec![("other-flag".to_owned(), true, None)];
    match flag {
        Flag::Status(code) => {
            return (code, json!({ "type": "server_error", "detail": "boom" }));
        }
        Flag::Unknown => {}
        Flag::Known { enabled, payload } => known.push((shared.key.clone(), enabled, payload)),
    }
    if shared.legacy.load(Ordering::Relaxed) {
        let flags: serde_json::Map<String, Value> = known
            .iter()
            .map(|(k, enabled, _)| (k.clone(), Value::Bool(*enabled)))
            .collect();
        let payloads: serde_json::Map<String, Value> = known
            .iter()
            .filter_map(|(k, _, p)| Some((k.clone(), p.clone()?)))
            .collect();
        return (
            200,
            json!({
                "featureFlags": flags,
                "featureFlagPayloads": payloads,
                "errorsWhileComputingFlags": false
            }),
        );
    }
    let flags: serde_json::Map<String, Value> = known
        .iter()
        .enumerate()
        .map(|(i, (k, enabled, payload))| {
            let reason = if *enabled {
                json!({ "code": "condition_match", "condition_index": 0, "description": "Matched condition set 1" })
            } else {
                json!({ "code": "no_condition_match", "condition_index": 0, "description": "No matching condition set" })
            };
            let detail = json!({
                "key": k,
                "enabled": enabled,
                "variant": null,
                "reason": reason,
                "metadata": {
                    "id": i + 1,
                    "version": 1,
                    "description": null,
                    "payload": payload.as_ref().map(|p| Value::String(p.to_string())),
                }
            });
            (k.clone(), detail)
        })
        .collect();
    (
        200,
        json!({
            "flags": flags,
            "errorsWhileComputingFlags": false,
            "requestId": "0f801b5b-0776-42ca-b0f7-8375c95730bf"
        }),
    )
}
