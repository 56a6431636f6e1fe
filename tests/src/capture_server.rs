//! A real HTTP server on 127.0.0.1 that speaks PostHog's capture API (`POST /batch/`).
//!
//! It parses requests off the socket (keep-alive, `Content-Length`, gzip bodies), records every
//! batch, and can be switched at runtime into the faults a real PostHog can show: errors,
//! rate limits, hangs, garbage and connections cut mid-response.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `200 {"status": 1}`.
    Ok,
    /// This status, with PostHog's own body for it (see [`error_body`]).
    Status(u16),
    /// `429` with `Retry-After: <secs>`.
    RateLimited(u64),
    /// Reads the request and never answers (a blackhole).
    Hang,
    /// Records the request, then answers `200` only once [`CaptureServer::release`] is
    /// called (a slow PostHog, with the moment it answers under the test's control). Switched
    /// to another mode instead, it answers as that mode does (a slow PostHog that then fails).
    Hold,
    /// Answers with bytes that are not HTTP.
    Garbage,
    /// Sends the headers and half the promised body, then closes the connection.
    CloseMidBody,
    /// Closes every connection as soon as it is accepted, reading and answering nothing: to
    /// the client PostHog is unreachable. Unlike a closed port, the address stays this
    /// server's, so PostHog comes back (`set_mode(Mode::Ok)`) at the same URL without a
    /// re-bind that another test could win.
    Unreachable,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request path with query, e.g. `/batch/?compression=gzip`.
    pub path: String,
    /// Lowercased header names with their values.
    pub headers: Vec<(String, String)>,
    /// Whether the body was gzip-encoded on the wire.
    pub gzip: bool,
    /// The decoded JSON body (`Value::Null` if it did not parse).
    pub body: Value,
}

impl Received {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The events of a `/batch/` body.
    pub fn events(&self) -> Vec<Value> {
        self.body["batch"].as_array().cloned().unwrap_or_default()
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Received>,
    /// Requests whose body was read, whatever the answer.
    attempts: usize,
    /// Requests waiting in [`Mode::Hold`].
    held: usize,
    /// Connections closed unanswered in [`Mode::Unreachable`].
    cut: usize,
}

struct Shared {
    mode: Mutex<Mode>,
    log: Mutex<Log>,
    changed: Condvar,
    stopped: AtomicBool,
}

/// The running server. Dropping it stops accepting connections.
pub struct CaptureServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl CaptureServer {
    /// Starts a server on a free loopback port.
    pub fn start(mode: Mode) -> CaptureServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        CaptureServer::serve_on(listener, mode)
    }

    fn serve_on(listener: TcpListener, mode: Mode) -> CaptureServer {
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            mode: Mutex::new(mode),
            log: Mutex::new(Log::default()),
            changed: Condvar::new(),
            stopped: AtomicBool::new(false),
        });
        spawn_accept_loop(
            "capture-server",
            listener,
            shared.clone(),
            |s: &Shared| s.stopped.load(Ordering::Relaxed),
            serve,
        );
        CaptureServer { addr, shared }
    }

    /// A URL for `POSTHOG_HOST`, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes how later requests are answered.
    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = mode;
    }

    /// Answers every request held in [`Mode::Hold`] (with `200`), and later ones at once.
    pub fn release(&self) {
        *self.shared.mode.lock().unwrap() = Mode::Ok;
        let _log = self.shared.log.lock().unwrap();
        self.shared.changed.notify_all();
    }

    /// Waits until at least `n` requests are held in [`Mode::Hold`], or `timeout`.
    pub fn wait_for_held(&self, n: usize, timeout: Duration) -> usize {
        self.wait_until(n, timeout, |log| log.held)
    }

    /// Every request that was answered 2xx or held (whatever it was answered once released),
    /// in the order they arrived.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().requests.clone()
    }

    /// Every event of every request answered 2xx.
    pub fn events(&self) -> Vec<Value> {
        self.requests().iter().flat_map(Received::events).collect()
    }

    /// Requests received, including those answered with a fault.
    pub fn attempts(&self) -> usize {
        self.shared.log.lock().unwrap().attempts
    }

    /// Connections closed unanswered while [`Mode::Unreachable`].
    pub fn cut(&self) -> usize {
        self.shared.log.lock().unwrap().cut
    }

    /// Waits until at least `n` events arrived (answered 2xx), or `timeout`; returns them.
    pub fn wait_for_events(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut log = self.shared.log.lock().unwrap();
        loop {
            let count: usize = log.requests.iter().map(|r| r.events().len()).sum();
            let now = Instant::now();
            if count >= n || now >= deadline {
                return log.requests.iter().flat_map(Received::events).collect();
            }
            log = self
                .shared
                .changed
                .wait_timeout(log, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Waits until `count(log)` reaches `n`, or `timeout`; returns the last count.
    fn wait_until(&self, n: usize, timeout: Duration, count: fn(&Log) -> usize) -> usize {
        let deadline = Instant::now() + timeout;
        let mut log = self.shared.log.lock().unwrap();
        loop {
            let now = Instant::now();
            if count(&log) >= n || now >= deadline {
                return count(&log);
            }
            log = self
                .shared
                .changed
                .wait_timeout(log, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Waits until at least `n` requests were received (any answer), or `timeout`.
    pub fn wait_for_attempts(&self, n: usize, timeout: Duration) -> usize {
        self.wait_until(n, timeout, |log| log.attempts)
    }
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// A port on which nothing listens: connections are refused.
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        if cut_if_unreachable(shared) {
            return;
        }
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        // A request on a connection opened before the switch to `Unreachable`.
        if cut_if_unreachable(shared) {
            return;
        }
        let mode = shared.mode.lock().unwrap().clone();
        {
            let mut log = shared.log.lock().unwrap();
            log.attempts += 1;
            if mode == Mode::Ok || mode == Mode::Hold {
                log.requests.push(request);
            }
            shared.changed.notify_all();
        }
        if mode == Mode::Hold {
            let mut log = shared.log.lock().unwrap();
            log.held += 1;
            shared.changed.notify_all();
            while *shared.mode.lock().unwrap() == Mode::Hold
                && !shared.stopped.load(Ordering::Relaxed)
            {
                log = shared
                    .changed
                    .wait_timeout(log, Duration::from_millis(50))
                    .unwrap()
                    .0;
            }
            log.held -= 1;
        }
        // A held request is answered as the server is set when the hold ends.
        let mode = match mode {
            Mode::Hold => match shared.mode.lock().unwrap().clone() {
                Mode::Hold => Mode::Ok, // the server stopped
                now => now,
            },
            other => other,
        };
        let keep_going = match mode {
            Mode::Ok | Mode::Hold => respond(&mut writer, 200, "OK", &[], br#"{"status": 1}"#),
            Mode::Status(code) => {
                let (content_type, body) = error_body(code);
                respond(
                    &mut writer,
                    code,
                    "Error",
                    &[("Content-Type", content_type.to_owned())],
                    body,
                )
            }
            Mode::RateLimited(secs) => respond(
                &mut writer,
                429,
                "Too Many Requests",
                &[("Retry-After", secs.to_string())],
                br#"{"error":"slow down"}"#,
            ),
            Mode::Hang => {
                while !shared.stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                false
            }
            Mode::Garbage => {
                let _ = writer.write_all(b"\x00\x01 this is not HTTP\r\n\r\n");
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
            Mode::CloseMidBody => {
                let _ = writer.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sta",
                );
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
            Mode::Unreachable => false,
        };
        if !keep_going {
            return;
        }
    }
}

/// In [`Mode::Unreachable`], counts the connection as cut; the caller then drops it unanswered.
fn cut_if_unreachable(shared: &Shared) -> bool {
    if *shared.mode.lock().unwrap() != Mode::Unreachable {
        return false;
    }
    shared.log.lock().unwrap().cut += 1;
    true
}

/// What PostHog's capture service answers with an error status: its `CaptureError` as plain
/// text (`(StatusCode, self.to_string())` in PostHog's capture-rs), e.g. 401 for a personal
/// API key given as the project key, 400 for a batch it cannot decode; a small JSON error for
/// the statuses a proxy in front of it answers.
pub fn error_body(code: u16) -> (&'static str, &'static [u8]) {
    const TEXT: &str = "text/plain; charset=utf-8";
    match code {
        400 => (TEXT, b"failed to decode request: invalid batch"),
        401 => (TEXT, b"API key is not valid: personal_api_key"),
        _ => ("application/json", br#"{"error":"boom"}"#),
    }
}

/// Writes one HTTP/1.1 response (JSON unless `headers` names a `Content-Type`); returns
/// whether the connection can be used again.
pub fn respond(
    writer: &mut TcpStream,
    code: u16,
    reason: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> bool {
    let typed = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    let mut head = format!("HTTP/1.1 {code} {reason}\r\n");
    if !typed {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    writer.write_all(head.as_bytes()).is_ok() && writer.write_all(body).is_ok()
}

/// Reads one HTTP/1.1 request (gunzipping its body); `None` when the connection ends.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut raw = vec![0u8; len];
    reader.read_exact(&mut raw).ok()?;
    let gzip = headers
        .iter()
        .any(|(k, v)| k == "content-encoding" && v.eq_ignore_ascii_case("gzip"));
    let bytes = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        raw
    };
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Some(Received {
        path,
        headers,
        gzip,
        body,
    })
}

/// Accepts connections on a thread of its own, one thread per connection, until `stopped`
/// says so (checked on each new connection). Shared by the loopback servers of this crate.
pub(crate) fn spawn_accept_loop<S: Send + Sync + 'static>(
    name: &str,
    listener: TcpListener,
    shared: Arc<S>,
    stopped: fn(&S) -> bool,
    serve: fn(TcpStream, &S),
) {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stopped(&shared) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        })
        .expect("spawn accept thread");
}
