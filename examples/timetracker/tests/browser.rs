//! The real browser test: headless Chromium, driven through chromedriver (WebDriver) by
//! fantoccini, clicks through setup with telemetry on, opens the admin telemetry page, turns
//! telemetry off, and checks at a loopback PostHog capture server that events arrived while it
//! was on and nothing at all after it was turned off.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test fails, unless `SKIP_BROWSER_TESTS=1`. Screenshots of the admin page are saved under
//! `target/browser/` for a human to look at.

#![cfg(unix)]

use std::fs::File;
use std::io::{BufRead, BufReader};
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
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Generous for a 2-core CI machine; each wait returns as soon as its condition holds.
const WAIT: Duration = Duration::from_secs(15);
/// Longer than the app's 1 s flush interval plus a delivery, so anything queued would show.
const QUIET: Duration = Duration::from_millis(2500);

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

/// `Some(reason)` when the browser tools are missing.
fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the browser test needs {} (install the Debian packages: \
             `apt-get install chromium chromium-driver`; .ci/run does)",
            missing.join(" and ")
        )
    })
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
fn start_chromedriver(dir: &Path) -> (Guard, String) {
    let port = free_port();
    let log = dir.join("chromedriver.log");
    let child = Command::new(CHROMEDRIVER)
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

async fn connect_browser(webdriver: &str, profile: &Path) -> Client {
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
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

/// Waits until no new event arrived for `QUIET`, so that what was captured earlier has been
/// delivered and cannot be mistaken for a later send.
fn wait_until_quiet(server: &CaptureServer) -> usize {
    let mut count = server.events().len();
    loop {
        let now = server.wait_for_events(count + 1, QUIET).len();
        if now == count {
            return count;
        }
        count = now;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_admin_page_and_disable_in_a_real_browser() {
    if let Some(reason) = missing_tools() {
        if std::env::var("SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
            eprintln!("skipping the browser test (SKIP_BROWSER_TESTS=1): {reason}");
            return;
        }
        panic!("{reason}; set SKIP_BROWSER_TESTS=1 to skip it");
    }
    let started = Instant::now();
    let dir = temp_dir("run");
    let server = CaptureServer::start(Mode::Ok);
    let (_app, base) = start_app(&dir, &server.url());
    let (_driver, webdriver) = start_chromedriver(&dir);
    let profile = dir.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let browser = connect_browser(&webdriver, &profile).await;

    // Every page leads to setup on a fresh install.
    browser.goto(&base).await.unwrap();
    browser
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#setup-form"))
        .await
        .expect("the setup page");
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
    browser
        .find(Locator::Css("#setup-username"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    browser
        .find(Locator::Css("#setup-password"))
        .await
        .unwrap()
        .send_keys("correct horse battery")
        .await
        .unwrap();
    browser
        .find(Locator::Css("#setup-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Setup hashes the password (Argon2) and then leaves /setup.
    let deadline = Instant::now() + WAIT;
    while path_of(&browser).await == "/setup" {
        assert!(Instant::now() < deadline, "setup did not complete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    browser
        .goto(&format!("{base}admin/telemetry"))
        .await
        .unwrap();
    // Setup logs the admin in; should the app ask anyway, log in as that admin.
    if path_of(&browser).await == "/login" {
        let form = browser.find(Locator::Css("#login-form")).await.unwrap();
        form.find(Locator::Css("#username"))
            .await
            .unwrap()
            .send_keys("admin")
            .await
            .unwrap();
        form.find(Locator::Css("#password"))
            .await
            .unwrap()
            .send_keys("correct horse battery")
            .await
            .unwrap();
        form.find(Locator::Css("#login-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    assert_eq!(text_of(&browser, "#telemetry-state").await, "enabled");
    assert_eq!(path_of(&browser).await, "/admin/telemetry");
    let catalog = text_of(&browser, "#catalog").await;
    for event in [
        "project.created",
        "timer.stopped",
        "setup.completed",
        "admin.telemetry_toggled",
        "telemetry.install",
    ] {
        assert!(
            catalog.contains(event),
            "{event} in the catalog:\n{catalog}"
        );
    }
    assert_eq!(text_of(&browser, "#telemetry-posthog").await, "yes");
    save_screenshot(&browser, "admin-telemetry-enabled.png").await;

    // While enabled, the events reach PostHog (here: the capture server).
    let enabled_events = tokio::task::block_in_place(|| {
        wait_for_names(
            &server,
            &[
                "setup.completed",
                "telemetry.install",
                "admin.telemetry_dashboard_viewed",
            ],
        )
    });
    for event in &enabled_events {
        assert_eq!(event["properties"]["$process_person_profile"], false);
        assert_eq!(event["properties"]["$geoip_disable"], true);
    }
    let setup = enabled_events
        .iter()
        .find(|e| e["event"] == "setup.completed")
        .unwrap();
    assert_eq!(setup["properties"]["telemetry_enabled"], true);
    // Let whatever was captured before the switch be delivered first.
    let before_disable = tokio::task::block_in_place(|| wait_until_quiet(&server));

    browser
        .find(Locator::Css("#telemetry-toggle"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The toggle posts the form and redirects back to this page; wait for the new state.
    let deadline = Instant::now() + WAIT;
    while current_state(&browser).await.as_deref() != Some("disabled") {
        assert!(
            Instant::now() < deadline,
            "the page did not show disabled after pressing Disable"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(path_of(&browser).await, "/admin/telemetry");
    assert_eq!(
        text_of(&browser, "#telemetry-toggle").await,
        "Enable telemetry"
    );
    save_screenshot(&browser, "admin-telemetry-disabled.png").await;
    let after_disable = server.events().len();
    assert_eq!(
        after_disable,
        before_disable,
        "nothing is sent by or after Disable: {:?}",
        names(&server.events()[before_disable..])
    );

    // More actions that would each send an event if telemetry were still on.
    browser
        .goto(&format!("{base}admin/telemetry"))
        .await
        .unwrap();
    assert_eq!(text_of(&browser, "#telemetry-state").await, "disabled");
    browser.goto(&format!("{base}reports")).await.unwrap();
    browser
        .goto(&format!("{base}admin/telemetry"))
        .await
        .unwrap();
    assert_eq!(text_of(&browser, "#telemetry-state").await, "disabled");
    let later = tokio::task::block_in_place(|| server.wait_for_events(before_disable + 1, QUIET));
    assert_eq!(
        later.len(),
        before_disable,
        "events arrived after Disable: {:?}",
        names(&later[before_disable..])
    );

    browser.close().await.unwrap();
    eprintln!(
        "browser test: {} events while enabled, none after Disable, {:.1?} in all",
        before_disable,
        started.elapsed()
    );
}
