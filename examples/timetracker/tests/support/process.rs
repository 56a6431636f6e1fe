//! The binary as a child process: waiting for the URL it prints, stopping it with Ctrl-C.
//! Included by the test binaries that run it (`#[path]`), so each gets the same waits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Reads the child's stderr until it prints `running at <url>` (within 30 s) and returns the
/// URL; the rest of stderr is drained in the background so the child never blocks on it.
pub fn wait_for_url(child: &mut Child) -> String {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the binary prints its URL");
        if let Some(rest) = line.split("running at ").nth(1) {
            return rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    }
}

/// Sends SIGINT (Ctrl-C) and waits up to `within` for the child to exit.
pub fn interrupt(child: &mut Child, within: Duration) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + within;
    loop {
        if let Some(exit) = child.try_wait().expect("child status") {
            return exit;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    }
}
