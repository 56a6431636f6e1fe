//! Running an example binary as a child process with a controlled environment.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The toolkit's environment variables, cleared before each child starts so the developer's
/// own shell settings never leak into a test.
pub const TOOLKIT_VARS: &[&str] = &[
    "ENABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "POSTHOG_API_KEY",
    "POSTHOG_HOST",
    "TELE_SALT",
    "APP_VERSION",
    "TELEMETRY_DEBUG",
    "TELEMETRY_STATE_DIR",
    "CI",
    "GITHUB_ACTIONS",
];

/// The result of a finished child.
#[derive(Debug)]
pub struct Finished {
    /// Exit status, stdout and stderr.
    pub output: Output,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

impl Finished {
    /// Stdout as text.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    /// Stderr as text.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

/// Runs `exe` in `dir` with a clean toolkit environment plus `env`, killing it after
/// `limit`. Panics if it had to be killed.
pub fn run(
    exe: &str,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> Finished {
    let mut cmd = Command::new(exe);
    cmd.current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in TOOLKIT_VARS {
        cmd.env_remove(var);
    }
    cmd.env("TELEMETRY_STATE_DIR", dir.join("state"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn example binary");
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            return Finished {
                output,
                elapsed: start.elapsed(),
            };
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "{exe} did not exit within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fresh temporary directory for one child run.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "telemetry-e2e-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
