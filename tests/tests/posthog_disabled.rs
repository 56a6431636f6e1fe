//! posthog-rs answers `Ok` when it could not build its HTTP client and disabled itself. The
//! toolkit must count those events as failed, not sent, and must not record the install ping
//! as done. A child process with no usable CA certificates (`SSL_CERT_FILE` and
//! `SSL_CERT_DIR` pointing nowhere) makes reqwest's client builder fail for real.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use telemetry_tests::capture_server::{CaptureServer, Mode};
use telemetry_tests::child::{TOOLKIT_VARS, temp_dir};

const EXE: &str = env!("CARGO_BIN_EXE_telemetry-driver");

#[test]
fn a_posthog_client_that_could_not_be_built_counts_as_failure() {
    let server = CaptureServer::start(Mode::Ok);
    let dir = temp_dir("posthog-disabled");
    let mut cmd = Command::new(EXE);
    cmd.current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in TOOLKIT_VARS {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .env("TELEMETRY_STATE_DIR", dir.join("state"))
        .env("ENABLE_TELEMETRY", "1")
        .env("POSTHOG_API_KEY", "phc_disabled_test")
        .env("POSTHOG_HOST", server.url())
        .env("SSL_CERT_FILE", dir.join("no-such-bundle.pem"))
        .env("SSL_CERT_DIR", dir.join("no-such-dir"))
        .spawn()
        .expect("spawn telemetry-driver");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"capture 3 before\nflush\nstatus\nshutdown\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let replies: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let status = &replies[2];
    let stats = &status["counters"];
    // Three captures and the install ping, none sent.
    assert_eq!(stats["captured"], 4, "{status}");
    assert_eq!(stats["failed"], 4, "{status}");
    assert_eq!(stats["sent"], 0, "{status}");
    assert!(
        status["last_install"].is_null(),
        "the install ping was not recorded as sent"
    );
    assert_eq!(server.attempts(), 0, "nothing reached the server");
    assert!(stderr.contains("posthog-rs client is disabled"), "{stderr}");
}
