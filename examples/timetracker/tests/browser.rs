//! The real browser test: headless Chromium, driven through chromedriver (WebDriver) by
//! fantoccini, walks the whole privacy story against the real binary and a loopback PostHog
//! capture server: setup with telemetry opted in, a project created in the UI whose
//! `project.created` arrives without its name (or any other personal data), the admin page, and
//! Disable, after which nothing more is captured or sent (checked with the app's pipeline
//! counters on `/metrics` and an explicit flush, not by waiting).
//!
//! Needs `chromium` and `chromedriver` on `PATH` (Debian: `apt-get install chromium
//! chromium-driver`; `.ci/run` does). Where they are missing the test is skipped with a notice
//! on stderr, except in CI (`CI=true`), where it fails. Screenshots of each step are saved under
//! `target/browser/`.

#![cfg(unix)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use telemetry_tests::capture_server::{CaptureServer, Mode};

const BIN: &str = env!("CARGO_BIN_EXE_timetracker");
/// Typed into the UI; must never reach the capture server.
const PROJECT_NAME: &str = "Secret Launch Plan";
const ADMIN_NAME: &str = "ada-lovelace";
const PASSWORD: &str = "correct horse battery";

/// Generous for a 2-core CI machine; each wait returns as soon as its condition holds.
const WAIT: Duration = Duration::from_secs(15);

/// Kills a child we started when the test ends, also on panic. With `group`, the whole process
/// group (chromedriver and the Chromium processes it launched) goes, not just the leader.
struct Guard {
    child: Child,
    group: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.group {
            // The child leads its own process group (see `process_group(0)`), so the group id
            // is its pid; SIGKILL to the negative id reaches chromedriver and every browser
            // process it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("timetracker-browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `target/browser/`, in the workspace's target dir (or `CARGO_TARGET_DIR`).
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The browser tools, found on `PATH`.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The tools, or why they cannot be used.
fn find_tools() -> Result<Tools, String> {
    let chromium = find_on_path(&["chromium", "chromium-browser"]);
    let chromedriver = find_on_path(&["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Ok(Tools {
            chromium,
            chromedriver,
        }),
        (chromium, chromedriver) => {
            let missing: Vec<&str> = [
                chromium.is_none().then_some("chromium"),
                chromedriver.is_none().then_some("chromedriver"),
            ]
            .into_iter()
            .flatten()
            .collect();
            Err(format!(
                "the browser test needs {} on PATH (Debian: `apt-get install chromium \
                 chromium-driver`; .ci/run installs them)",
                missing.join(" and ")
            ))
        }
    }
}

/// Whether this is a CI run, where the browser test is required.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| matches!(v.trim(), "true" | "1" | "yes"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary on a free port, sending to `posthog_host`; returns it and its base URL
/// (`http://127.0.0.1:N/`), read from the line it prints on stderr, as tests/binary.rs does.
fn start_app(dir: &Path, posthog_host: &str) -> (Guard, String) {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        // The JSONL log (if any) and the app's data stay in the temp dir.
        .current_dir(dir)
        .env("TIMETRACKER_DATA_DIR", dir.join("data"))
        .env("TELEMETRY_STATE_DIR", dir.join("telemetry-state"))
        .env("POSTHOG_API_KEY", "phc_browser")
        .env("POSTHOG_HOST", posthog_host)
        // Consent must come from the setup page, not from the environment the test runs in.
        .env_remove("ENABLE_TELEMETRY")
        .env_remove("DO_NOT_TRACK")
        .env_remove("TELEMETRY_DEBUG")
        .env_remove("TELE_SALT")
        .env_remove("APP_VERSION")
        .env_remove("PORT")
        .stdout(File::create(dir.join("app.log")).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the timetracker binary");
    let stderr = child.stderr.take().unwrap();
    let guard = Guard {
        child,
        group: false,
    };
    let (tx, rx) = mpsc::channel();
    // Keeps draining stderr after the URL so the app never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the binary prints its URL");
        if let Some(rest) = line.split("running at ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (guard, url)
}

/// chromedriver on a free port, in its own process group; waits until it accepts connections.
fn start_chromedriver(chromedriver: &Path, dir: &Path) -> (Guard, String) {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(File::create(&log).unwrap())
        .stderr(Stdio::from(
            File::create(dir.join("chromedriver.err")).unwrap(),
        ))
        .process_group(0)
        .spawn()
        .expect("start chromedriver");
    let mut guard = Guard { child, group: true };
    let deadline = Instant::now() + WAIT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = guard.child.try_wait().unwrap() {
            panic!(
                "chromedriver exited with {status}; see {}",
                dir.join("chromedriver.err").display()
            );
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within {WAIT:?}; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (guard, format!("http://127.0.0.1:{port}"))
}

async fn connect_browser(webdriver: &str, chromium: &Path, profile: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                "--window-size=1280,1400",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(webdriver)
        .await
        .expect("open a Chromium session through chromedriver")
}

async fn text_of(browser: &Client, css: &str) -> String {
    match browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(element) => element.text().await.unwrap(),
        Err(e) => panic!("{css} on {}: {e}", browser.current_url().await.unwrap()),
    }
}

/// The status badge's text, if the page has one right now (it may be mid-navigation).
async fn current_state(browser: &Client) -> Option<String> {
    let badge = browser.find(Locator::Css("#telemetry-state")).await.ok()?;
    badge.text().await.ok()
}

async fn path_of(browser: &Client) -> String {
    browser.current_url().await.unwrap().path().to_owned()
}

async fn save_screenshot(browser: &Client, name: &str) -> PathBuf {
    let png = browser.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = screenshot_dir().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until every name in `expected` arrived at the capture server; returns all events.
fn wait_for_names(server: &CaptureServer, expected: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let events = server.wait_for_events(usize::MAX, Duration::from_millis(200));
        let got = names(&events);
        if expected.iter().all(|n| got.iter().any(|g| g == n)) {
            return events;
        }
        assert!(
            Instant::now() < deadline,
            "expected {expected:?} at the capture server within {WAIT:?}, got {got:?}"
        );
    }
}

/// `GET path` on the app with a plain HTTP/1.0 request; the body.
fn http_get(base: &str, path: &str) -> String {
    let authority = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(&authority).expect("connect to the app");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    body.to_owned()
}

/// The app's telemetry pipeline counters, from its `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    captured: u64,
    sent: u64,
    queued: u64,
}

fn counters(base: &str) -> Counters {
    let metrics = http_get(base, "/metrics");
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|line| line.starts_with(&format!("{name} ")))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} in\n{metrics}")) as u64
    };
    Counters {
        captured: value("tt_telemetry_events_captured_total"),
        sent: value("tt_telemetry_events_sent_total"),
        queued: value("tt_telemetry_events_queued"),
    }
}

async fn fill(browser: &Client, css: &str, text: &str) {
    let field = browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the browser's path satisfies `done`.
async fn wait_for_path(browser: &Client, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let path = path_of(browser).await;
        if done(&path) {
            return path;
        }
        assert!(Instant::now() < deadline, "{what}: still on {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presses "Send queued events now" on the admin page and waits until the page is back: every
/// event queued before the press has had its delivery attempt.
async fn flush_from_admin_page(browser: &Client, base: &str) {
    browser
        .goto(&format!("{base}admin/telemetry"))
        .await
        .unwrap();
    click(browser, "#telemetry-flush").await;
    // The flush redirects to `?flushed=1`: a new URL, so this waits for the new page (the
    // path alone is the same before and after).
    let deadline = Instant::now() + WAIT;
    while browser.current_url().await.unwrap().query() != Some("flushed=1") {
        assert!(Instant::now() < deadline, "the flush did not return");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    text_of(browser, "#telemetry-flushed").await;
}

/// Waits until everything the app captured was sent and has arrived at the server: its
/// counters say nothing is queued and sent = captured, and the server holds that many events.
fn wait_delivered(base: &str, server: &CaptureServer) -> Counters {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = counters(base);
        let arrived = server.events().len() as u64;
        if now.queued == 0 && now.sent == now.captured && arrived == now.sent {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered within {WAIT:?}: {now:?}, {arrived} arrived"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_privacy_story_in_a_real_browser() {
    let tools = match find_tools() {
        Ok(tools) => tools,
        Err(reason) if in_ci() => panic!("{reason}: CI=true, so the browser test is required"),
        Err(reason) => {
            // Straight to the process's stderr: the test harness captures `eprintln!` of a
            // passing test, and this notice must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "\nNOTICE: skipping the browser test (tests/browser.rs): {reason}. \
                 It runs wherever both are installed and is required in CI (CI=true).\n"
            );
            return;
        }
    };
    let started = Instant::now();
    let dir = temp_dir("run");
    let server = CaptureServer::start(Mode::Ok);
    let (_app, base) = start_app(&dir, &server.url());
    let (_driver, webdriver) = start_chromedriver(&tools.chromedriver, &dir);
    let profile = dir.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let browser = connect_browser(&webdriver, &tools.chromium, &profile).await;

    // 1. Every page leads to setup on a fresh install; telemetry is opt-in.
    browser.goto(&base).await.unwrap();
    text_of(&browser, "#setup-form").await;
    assert_eq!(path_of(&browser).await, "/setup");
    let checkbox = browser
        .find(Locator::Css("#telemetry-enabled"))
        .await
        .unwrap();
    assert!(
        !checkbox.is_selected().await.unwrap(),
        "telemetry is opt-in: the box starts unticked"
    );
    checkbox.click().await.unwrap();
    assert!(checkbox.is_selected().await.unwrap());
    fill(&browser, "#setup-username", ADMIN_NAME).await;
    fill(&browser, "#setup-password", PASSWORD).await;
    save_screenshot(&browser, "1-setup-opt-in.png").await;
    click(&browser, "#setup-submit").await;
    // Setup hashes the password (Argon2), logs the admin in and leaves /setup.
    wait_for_path(&browser, "setup", |p| p != "/setup").await;

    // 2. A project created in the UI.
    browser.goto(&format!("{base}projects")).await.unwrap();
    fill(&browser, "#new-project-form input[name=name]", PROJECT_NAME).await;
    click(&browser, "#new-project-form button[type=submit]").await;
    let project_path = wait_for_path(&browser, "create a project", |p| {
        p.strip_prefix("/projects/")
            .is_some_and(|id| id.parse::<i64>().is_ok())
    })
    .await;
    assert_eq!(text_of(&browser, "h1").await, PROJECT_NAME);
    save_screenshot(&browser, "2-project-created.png").await;
    let project_id: i64 = project_path["/projects/".len()..].parse().unwrap();

    // 3. `project.created` arrives at PostHog (here: the capture server) with no personal data.
    let events = tokio::task::block_in_place(|| {
        wait_for_names(
            &server,
            &["setup.completed", "telemetry.install", "project.created"],
        )
    });
    let created = events
        .iter()
        .find(|e| e["event"] == "project.created")
        .unwrap();
    assert_eq!(created["properties"]["project_id"], json!(project_id));
    assert_eq!(created["properties"]["has_client"], json!(false));
    for event in &events {
        assert_eq!(event["properties"]["$process_person_profile"], false);
        assert_eq!(event["properties"]["$geoip_disable"], true);
        assert!(event["properties"].get("$ip").is_none());
    }
    for request in server.requests() {
        let body = request.body.to_string();
        for secret in [PROJECT_NAME, "Secret", ADMIN_NAME, PASSWORD] {
            assert!(!body.contains(secret), "`{secret}` was sent: {body}");
        }
    }

    // 4. The admin page shows telemetry on; everything captured so far is delivered.
    browser
        .goto(&format!("{base}admin/telemetry"))
        .await
        .unwrap();
    assert_eq!(text_of(&browser, "#telemetry-state").await, "enabled");
    assert_eq!(text_of(&browser, "#telemetry-posthog").await, "yes");
    let catalog = text_of(&browser, "#catalog").await;
    for event in [
        "project.created",
        "project.deleted",
        "admin.settings_updated",
        "telemetry.install",
    ] {
        assert!(catalog.contains(event), "{event} in the catalog");
    }
    save_screenshot(&browser, "3-admin-telemetry-enabled.png").await;
    // The flush delivers what was queued; the admin page it returns to is itself a (queued)
    // `admin.telemetry_dashboard_viewed`, so wait on the counters for that one too.
    flush_from_admin_page(&browser, &base).await;
    let before = tokio::task::block_in_place(|| wait_delivered(&base, &server));

    // 5. Disable on the admin page.
    click(&browser, "#telemetry-toggle").await;
    let deadline = Instant::now() + WAIT;
    while current_state(&browser).await.as_deref() != Some("disabled") {
        assert!(Instant::now() < deadline, "the page did not show disabled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        text_of(&browser, "#telemetry-toggle").await,
        "Enable telemetry"
    );
    save_screenshot(&browser, "4-admin-telemetry-disabled.png").await;
    let at_disable = counters(&base);
    let arrived = server.events().len();
    assert_eq!(
        at_disable.captured, before.captured,
        "turning telemetry off is not reported"
    );

    // 6. Actions that would each send an event if telemetry were still on.
    browser.goto(&format!("{base}projects")).await.unwrap();
    fill(
        &browser,
        "#new-project-form input[name=name]",
        "Another Secret",
    )
    .await;
    click(&browser, "#new-project-form button[type=submit]").await;
    wait_for_path(&browser, "second project", |p| p != "/projects").await;
    browser
        .goto(&format!("{base}reports?range=this_week"))
        .await
        .unwrap();
    text_of(&browser, "#report-total").await;
    flush_from_admin_page(&browser, &base).await;
    assert_eq!(text_of(&browser, "#telemetry-state").await, "disabled");
    save_screenshot(&browser, "5-after-disable.png").await;
    let after = counters(&base);
    assert_eq!(
        after.captured, at_disable.captured,
        "nothing was captured after Disable: {after:?}"
    );
    assert_eq!(after.queued, 0);
    assert_eq!(
        after.sent, at_disable.sent,
        "nothing was sent after Disable"
    );
    assert_eq!(
        server.events().len(),
        arrived,
        "events arrived after Disable: {:?}",
        names(&server.events()[arrived..])
    );

    browser.close().await.unwrap();
    eprintln!(
        "browser test: {} events while enabled, none after Disable, {:.1?} in all",
        arrived,
        started.elapsed()
    );
}
