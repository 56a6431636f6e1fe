//! A loopback PostHog `/batch/` endpoint that only counts, for benches and load tests.
//!
//! [`CaptureServer`](crate::capture_server::CaptureServer) keeps every request, which is right
//! for asserting contents but grows without bound under millions of events; this one parses
//! each batch just enough to count its events (and, optionally, their distinct `uuid`s) and
//! keeps nothing else, so it can take any load at a small, fixed memory cost.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

#[derive(Deserialize)]
struct Batch {
    #[serde(default)]
    batch: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    event: Option<String>,
}

struct Shared {
    events: AtomicU64,
    requests: AtomicU64,
    /// Bodies that did not parse as a batch.
    bad: AtomicU64,
    uuids: Option<Mutex<HashSet<String>>>,
    /// Events per name (only with `track_uuids`, which the benches' hot runs leave off).
    names: Mutex<std::collections::HashMap<String, u64>>,
    /// Notified after each request, for [`CountingServer::wait_for_events`].
    wake: (Mutex<()>, Condvar),
    stopped: AtomicBool,
}

/// The running server; dropping it stops accepting connections.
pub struct CountingServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl CountingServer {
    /// Starts on a free loopback port; with `track_uuids`, also counts distinct event uuids.
    pub fn start(track_uuids: bool) -> CountingServer {
        CountingServer::start_at("127.0.0.1:0", track_uuids).expect("bind loopback")
    }

    /// Starts on `addr` (for a server that comes back on the port it had).
    pub fn start_at(addr: &str, track_uuids: bool) -> std::io::Result<CountingServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            events: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            bad: AtomicU64::new(0),
            uuids: track_uuids.then(|| Mutex::new(HashSet::new())),
            names: Mutex::default(),
            wake: (Mutex::new(()), Condvar::new()),
            stopped: AtomicBool::new(false),
        });
        crate::capture_server::spawn_accept_loop(
            "counting-server",
            listener,
            shared.clone(),
            |s: &Shared| s.stopped.load(Ordering::Relaxed),
            serve,
        );
        Ok(CountingServer { addr, shared })
    }

    /// A URL for `POSTHOG_HOST`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Events received in batches that parsed.
    pub fn events(&self) -> u64 {
        self.shared.events.load(Ordering::SeqCst)
    }

    /// Requests received.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Request bodies that were not a batch.
    pub fn bad_requests(&self) -> u64 {
        self.shared.bad.load(Ordering::SeqCst)
    }

    /// Distinct event uuids seen (0 unless started with `track_uuids`).
    pub fn unique_uuids(&self) -> usize {
        self.shared
            .uuids
            .as_ref()
            .map_or(0, |u| u.lock().unwrap().len())
    }

    /// Events received with this name (counted only with `track_uuids`).
    pub fn named(&self, name: &str) -> u64 {
        self.shared
            .names
            .lock()
            .unwrap()
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until at least `n` events arrived, or `timeout`; returns the count.
    pub fn wait_for_events(&self, n: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &self.shared.wake;
        let mut guard = lock.lock().unwrap();
        loop {
            let count = self.events();
            let now = Instant::now();
            if count >= n || now >= deadline {
                return count;
            }
            guard = cv
                .wait_timeout(guard, (deadline - now).min(Duration::from_millis(50)))
                .unwrap()
                .0;
        }
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut raw = Vec::new();
    let mut inflated = Vec::new();
    while read_body(&mut reader, &mut raw, &mut inflated) {
        let body = if inflated.is_empty() { &raw } else { &inflated };
        match serde_json::from_slice::<Batch>(body) {
            Ok(batch) => {
                if let Some(uuids) = &shared.uuids {
                    let mut set = uuids.lock().unwrap();
                    set.extend(batch.batch.iter().filter_map(|e| e.uuid.clone()));
                    let mut names = shared.names.lock().unwrap();
                    for e in &batch.batch {
                        if let Some(name) = &e.event {
                            *names.entry(name.clone()).or_default() += 1;
                        }
                    }
                }
                shared
                    .events
                    .fetch_add(batch.batch.len() as u64, Ordering::SeqCst);
            }
            Err(_) => {
                shared.bad.fetch_add(1, Ordering::SeqCst);
            }
        }
        shared.requests.fetch_add(1, Ordering::SeqCst);
        {
            let _guard = shared.wake.0.lock().unwrap();
            shared.wake.1.notify_all();
        }
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"status\": 1}";
        if writer.write_all(ok).is_err() {
            return;
        }
    }
}

/// Reads one request's body into `raw` (and its gunzipped form into `inflated`, else empty).
fn read_body(reader: &mut BufReader<TcpStream>, raw: &mut Vec<u8>, inflated: &mut Vec<u8>) -> bool {
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return false;
    }
    let mut len = 0usize;
    let mut gzip = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        let h = line.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("content-encoding") {
                gzip = v.eq_ignore_ascii_case("gzip");
            }
        }
    }
    raw.resize(len, 0);
    if reader.read_exact(raw).is_err() {
        return false;
    }
    inflated.clear();
    if gzip
        && flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(inflated)
            .is_err()
    {
        inflated.clear();
    }
    true
}
