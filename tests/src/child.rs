//! Running an example binary as a child process with a controlled environment.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// The toolkit's environment variables, cleared before each child starts so the developer's
/// own shell settings never leak into a test.
pub const TOOLKIT_VARS: &[&str] = &[
    "ENABLE_TELEMETRY",
    "DO_NOT_TRACK",
    "POSTHOG_API_KEY",
    "POSTHOG_HOST",
    "TELE_SALT",
    "TELEMETRY_INSTALL_ID",
    "APP_VERSION",
    "TELEMETRY_DEBUG",
    "TELEMETRY_STATE_DIR",
    "TELEMETRY_REMOTE_FLAG",
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

/// A running `telemetry-driver` (or any child speaking its one-JSON-line-per-command protocol),
/// with a clean toolkit environment plus the given variables.
pub struct DriverProcess {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl DriverProcess {
    /// Starts `exe` in `dir` with only `env` set among the toolkit's variables.
    pub fn start(exe: &str, dir: &Path, env: &[(&str, &str)]) -> DriverProcess {
        let mut cmd = Command::new(exe);
        cmd.current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in TOOLKIT_VARS {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the driver");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        DriverProcess {
            child,
            stdin,
            lines,
            stderr: Some(stderr),
        }
    }

    /// Sends one command and waits (at most 20 s) for its JSON answer.
    pub fn cmd(&mut self, command: &str) -> serde_json::Value {
        self.cmd_within(command, Duration::from_secs(20))
    }

    /// Sends one command and waits at most `limit` for its JSON answer.
    pub fn cmd_within(&mut self, command: &str, limit: Duration) -> serde_json::Value {
        writeln!(self.stdin, "{command}").expect("write to the driver");
        self.stdin.flush().expect("flush the driver's stdin");
        let line = self.lines.recv_timeout(limit).unwrap_or_else(|_| {
            let _ = self.child.kill();
            panic!("the driver did not answer {command:?} within {limit:?}")
        });
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad answer {line:?}: {e}"))
    }

    /// Polls `command` until `pred` holds on its answer; panics after `limit`. Returns the
    /// answer and how long it took.
    pub fn wait_for(
        &mut self,
        command: &str,
        limit: Duration,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> (serde_json::Value, Duration) {
        let start = Instant::now();
        loop {
            let answer = self.cmd(command);
            if pred(&answer) {
                return (answer, start.elapsed());
            }
            assert!(
                start.elapsed() < limit,
                "waited {limit:?} on {command:?}: {answer}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `shutdown`, waits for the exit (at most 10 s) and returns stderr.
    pub fn shutdown(mut self) -> String {
        let _ = self.cmd("shutdown");
        self.exit_within(Duration::from_secs(10)).1
    }

    /// Waits for the process to exit (killing it and panicking after `limit`); returns its exit
    /// status and everything it wrote to stderr.
    pub fn exit_within(mut self, limit: Duration) -> (ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().ok().flatten() {
                break status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("the driver did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        (status, stderr)
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // A test that failed half-way must not leave the child running.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
