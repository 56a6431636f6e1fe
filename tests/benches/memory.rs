//! Target 4: peak RSS with the queue empty vs full, ours next to bare posthog-rs.
//!
//! Each scenario is a fresh child process. The server hangs (accepts, never answers), so the
//! worker is stuck on its first request and everything captured stays queued: the worst case
//! for memory. We capture well past the bound and read `VmHWM` (peak RSS) from
//! `/proc/self/status` before and after.
//!
//! `cargo bench -p telemetry-tests --bench memory` (`-- --quick` for CI)

mod common;

use std::process::Command;

use common::{call, install_ours, ph_event, posthog_client, proc_status_kib};
use telemetry_tests::capture_server::{CaptureServer, Mode};

const SCENARIO_VAR: &str = "MEMORY_BENCH_SCENARIO";

struct Scenario {
    name: &'static str,
    ours: bool,
    props: usize,
    /// The queue bound; `None` = the library's default.
    queue: Option<usize>,
    /// What the default is, for the table.
    bound: usize,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ours, 3 props, default bound",
        ours: true,
        props: 3,
        queue: None,
        bound: 50_000,
    },
    Scenario {
        name: "ours, 8 props, default bound",
        ours: true,
        props: 8,
        queue: None,
        bound: 50_000,
    },
    Scenario {
        name: "posthog-rs, 3 props, bound 50k",
        ours: false,
        props: 3,
        queue: Some(50_000),
        bound: 50_000,
    },
    Scenario {
        name: "posthog-rs, 3 props, default bound",
        ours: false,
        props: 3,
        queue: None,
        bound: 10_000,
    },
];

fn run_scenario(s: &Scenario) -> (u64, u64, u64) {
    let server = CaptureServer::start(Mode::Hang);
    let telemetry;
    let client;
    if s.ours {
        telemetry = Some(install_ours(&server.url(), s.queue, false));
        client = None;
    } else {
        telemetry = None;
        client = Some(posthog_client(&server.url(), s.queue, false));
    }
    // Let the worker start and get stuck on its first request.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let empty = proc_status_kib("VmHWM");
    // Twice the bound: the second half must be dropped, not stored.
    let n = 2 * s.bound as u64;
    for i in 0..n {
        match &client {
            Some(c) => c.capture(ph_event(s.props, i)),
            None => call(s.props, i),
        }
    }
    let full = proc_status_kib("VmHWM");
    let queued = match (&telemetry, &client) {
        (Some(_), _) => telemetry_core::stats().queued,
        // posthog-rs shows its queue depth only to its own test harness; by design it holds
        // exactly `max_queue_size` here (the in-flight batch counts against the bound).
        (_, Some(_)) => s.bound as u64,
        _ => 0,
    };
    // Do not wait for the hung server: exit now.
    println!("{empty} {full} {queued}");
    std::process::exit(0);
}

fn main() {
    // `--quick` (or criterion's `--profile-time`, when all benches get one CI flag): a smoke run.
    let quick = std::env::args().any(|a| a == "--quick" || a == "--profile-time");
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        let s = SCENARIOS
            .iter()
            .find(|s| s.name == name)
            .expect("known scenario");
        run_scenario(s);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    println!(
        "memory: peak RSS (VmHWM) with the worker stuck on a hung server, 2 x bound events captured\n"
    );
    println!(
        "| scenario | bound | queued | VmHWM empty | VmHWM full | growth | per queued event |"
    );
    println!("|---|---|---|---|---|---|---|");
    let scenarios: &[Scenario] = if quick { &SCENARIOS[..1] } else { SCENARIOS };
    for s in scenarios {
        let out = Command::new(&exe)
            .env(SCENARIO_VAR, s.name)
            .output()
            .expect("run scenario");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: Vec<u64> = stdout
            .lines()
            .last()
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let [empty, full, queued] = v[..] else {
            panic!(
                "scenario {} failed: {stdout}\n{}",
                s.name,
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let growth = full.saturating_sub(empty);
        println!(
            "| {} | {} | {} | {} KiB | {} KiB | {} KiB | {:.0} B |",
            s.name,
            s.bound,
            queued,
            empty,
            full,
            growth,
            growth as f64 * 1024.0 / queued.max(1) as f64
        );
    }
}
