//! The real binary: serves the catalog, listens on 127.0.0.1, logs JSON and stops cleanly on
//! Ctrl-C (SIGINT).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[path = "support/process.rs"]
mod process;

const BIN: &str = env!("CARGO_BIN_EXE_timetracker");

fn command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env("TIMETRACKER_DATA_DIR", dir.join("data"))
        .env("DO_NOT_TRACK", "1")
        .env_remove("ENABLE_TELEMETRY")
        .env_remove("POSTHOG_API_KEY")
        .env_remove("TELEMETRY_STATE_DIR")
        .env_remove("PORT");
    cmd
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("timetracker-bin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_binary_serves_the_committed_documents() {
    let dir = temp_dir("catalog");
    for (format, file) in [("md", "TRACKED_EVENTS.md"), ("json", "TRACKED_EVENTS.json")] {
        let output = command(&dir)
            .arg(format!("--telemetry-catalog={format}"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let committed =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap();
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            committed,
            "{file}"
        );
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[cfg(unix)]
#[test]
fn the_binary_serves_and_stops_cleanly_on_ctrl_c() {
    let dir = temp_dir("serve");
    let mut child = command(&dir)
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let url = process::wait_for_url(&mut child);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let health = get(&addr, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.to_ascii_lowercase().contains("x-request-id:"));
    let home = get(&addr, "/");
    assert!(home.starts_with("HTTP/1.1 303"), "{home}");
    assert!(home.contains("location: /setup"), "{home}");

    let exit = process::interrupt(&mut child, Duration::from_secs(15));
    assert!(exit.success(), "{exit:?}");

    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let messages: Vec<String> = stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["message"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    for expected in [
        "timetracker started",
        "request completed",
        "timetracker stopped",
    ] {
        assert!(
            messages.iter().any(|m| m == expected),
            "{expected} in {stdout}"
        );
    }
    assert!(dir.join("data").join("timetracker.sqlite3").exists());
}
