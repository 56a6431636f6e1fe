//! Target 3: a burst of N = 200 000 events captured as fast as possible, delivered to a
//! loopback `/batch/` server, ours next to bare posthog-rs, in one run; every event accounted
//! for.
//!
//! Each scenario runs in a fresh child process (the pipeline is process-global, and a
//! scenario must not inherit the previous one's threads or heap), three times; the table shows
//! the median run. Rate = events the server received / wall time from the first capture until
//! `shutdown()` returned (all delivered).
//!
//! `cargo bench -p telemetry-tests --bench e2e` (`-- --quick`: N = 20 000, one run, for CI)

mod common;

use std::process::Command;
use std::time::Instant;

use common::{install_ours, ph_event, posthog_client, three};
use telemetry_tests::counting_server::CountingServer;

const SCENARIO_VAR: &str = "E2E_BENCH_SCENARIO";
const N_VAR: &str = "E2E_BENCH_N";

struct Scenario {
    name: &'static str,
    ours: bool,
    /// Queue bound; `None` = the library's default (ours 50 000, posthog-rs 10 000).
    queue: Option<usize>,
    gzip: bool,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ours, queue 200k",
        ours: true,
        queue: Some(200_000),
        gzip: false,
    },
    Scenario {
        name: "posthog-rs, queue 200k",
        ours: false,
        queue: Some(200_000),
        gzip: false,
    },
    Scenario {
        name: "ours, default queue (50k)",
        ours: true,
        queue: None,
        gzip: false,
    },
    Scenario {
        name: "posthog-rs, default queue (10k)",
        ours: false,
        queue: None,
        gzip: false,
    },
    Scenario {
        name: "ours, queue 200k, gzip",
        ours: true,
        queue: Some(200_000),
        gzip: true,
    },
    Scenario {
        name: "posthog-rs, queue 200k, gzip",
        ours: false,
        queue: Some(200_000),
        gzip: true,
    },
];

#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    n: u64,
    loop_ms: f64,
    total_ms: f64,
    /// Received by the server (user events only).
    delivered: u64,
    /// Distinct uuids among all received.
    unique: u64,
    /// Our counters (zero for posthog-rs, which has none).
    captured: u64,
    sent: u64,
    dropped: u64,
    failed: u64,
    /// Lifecycle pings (ours only) included in `sent` but not in `delivered`.
    lifecycle: u64,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.delivered as f64 / (self.total_ms / 1e3)
    }

    fn line(&self) -> String {
        format!(
            "{} {} {} {} {} {} {} {} {} {}",
            self.n,
            self.loop_ms,
            self.total_ms,
            self.delivered,
            self.unique,
            self.captured,
            self.sent,
            self.dropped,
            self.failed,
            self.lifecycle
        )
    }

    fn parse(line: &str) -> Option<Outcome> {
        let v: Vec<f64> = line
            .split_whitespace()
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        let &[
            n,
            loop_ms,
            total_ms,
            delivered,
            unique,
            captured,
            sent,
            dropped,
            failed,
            lifecycle,
        ] = v.as_slice()
        else {
            return None;
        };
        let u = |x: f64| x as u64;
        Some(Outcome {
            n: u(n),
            loop_ms,
            total_ms,
            delivered: u(delivered),
            unique: u(unique),
            captured: u(captured),
            sent: u(sent),
            dropped: u(dropped),
            failed: u(failed),
            lifecycle: u(lifecycle),
        })
    }
}

fn run_scenario(s: &Scenario, n: u64) -> Outcome {
    let server = CountingServer::start(true);
    if s.ours {
        let telemetry = install_ours(&server.url(), s.queue, s.gzip);
        // The start-up lifecycle pings go first; wait for them so the burst is measured alone.
        telemetry.flush();
        let before = telemetry_core::stats();
        let lifecycle = server.events();
        let start = Instant::now();
        for i in 0..n {
            std::hint::black_box(three(std::hint::black_box(i)));
        }
        let loop_ms = start.elapsed().as_secs_f64() * 1e3;
        telemetry.shutdown();
        let total_ms = start.elapsed().as_secs_f64() * 1e3;
        let after = telemetry_core::stats();
        assert_eq!(after.queued, 0, "{after:?}");
        let received = server.events();
        Outcome {
            n,
            loop_ms,
            total_ms,
            delivered: received - lifecycle,
            unique: server.unique_uuids() as u64,
            captured: after.captured - before.captured,
            sent: after.sent - before.sent,
            dropped: after.dropped - before.dropped,
            failed: after.failed - before.failed,
            lifecycle,
        }
    } else {
        let client = posthog_client(&server.url(), s.queue, s.gzip);
        let start = Instant::now();
        for i in 0..n {
            client.capture(ph_event(3, i));
        }
        let loop_ms = start.elapsed().as_secs_f64() * 1e3;
        client.shutdown();
        let total_ms = start.elapsed().as_secs_f64() * 1e3;
        let delivered = server.events();
        Outcome {
            n,
            loop_ms,
            total_ms,
            delivered,
            unique: server.unique_uuids() as u64,
            ..Outcome::default()
        }
    }
}

fn main() {
    // `--quick` (or criterion's `--profile-time`, when all benches get one CI flag): a smoke run.
    let quick = std::env::args().any(|a| a == "--quick" || a == "--profile-time");
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        let n: u64 = std::env::var(N_VAR)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200_000);
        let s = SCENARIOS
            .iter()
            .find(|s| s.name == name)
            .expect("known scenario");
        println!("{}", run_scenario(s, n).line());
        return;
    }
    let (n, runs) = if quick {
        (20_000u64, 1)
    } else {
        (200_000u64, 3)
    };
    let exe = std::env::current_exe().expect("own path");
    println!(
        "e2e: a burst of {n} events (3 properties) to a loopback /batch/ server; median of {runs} run(s)\n"
    );
    println!(
        "| scenario | capture loop | until all delivered | delivered / captured | lost | unique uuids | events/s | accounting |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut failures = Vec::new();
    let mut rates = Vec::new();
    for s in SCENARIOS {
        let mut outcomes: Vec<Outcome> = (0..runs)
            .map(|_| {
                let out = Command::new(&exe)
                    .env(SCENARIO_VAR, s.name)
                    .env(N_VAR, n.to_string())
                    .output()
                    .expect("run scenario");
                let stdout = String::from_utf8_lossy(&out.stdout);
                Outcome::parse(stdout.lines().last().unwrap_or("")).unwrap_or_else(|| {
                    panic!(
                        "scenario {} failed: {}\n{}",
                        s.name,
                        stdout,
                        String::from_utf8_lossy(&out.stderr)
                    )
                })
            })
            .collect();
        outcomes.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let o = outcomes[outcomes.len() / 2];
        let lost = o.n - o.delivered;
        let accounting = if s.ours {
            // Exact: every captured event is sent, failed or dropped, and the server has
            // exactly the sent ones (our counters include the start-up lifecycle pings).
            let exact = o.captured == o.n
                && o.sent + o.dropped + o.failed == o.captured
                && o.delivered == o.sent
                && o.dropped == lost
                && o.unique == o.delivered + o.lifecycle;
            if !exact {
                failures.push(format!("{}: accounting off: {o:?}", s.name));
            }
            format!(
                "{}: sent {} + dropped {} + failed {} = captured {}",
                if exact { "exact" } else { "MISMATCH" },
                o.sent,
                o.dropped,
                o.failed,
                o.captured
            )
        } else {
            "no drop counter (one warn! log line)".to_owned()
        };
        if s.ours && s.queue.is_some_and(|q| q as u64 >= n) && lost != 0 {
            failures.push(format!("{}: lost {lost} events within the bound", s.name));
        }
        rates.push((s.name, o.rate()));
        println!(
            "| {} | {:.0} ms | {:.0} ms | {} / {} | {} ({:.1} %) | {} | {:.0} | {} |",
            s.name,
            o.loop_ms,
            o.total_ms,
            o.delivered,
            o.n,
            lost,
            100.0 * lost as f64 / o.n as f64,
            o.unique,
            o.rate(),
            accounting
        );
    }
    println!();
    for pair in rates.chunks(2) {
        if let [(ours_name, ours), (ph_name, ph)] = pair {
            println!("ratio {ours_name} / {ph_name}: {:.2}x events/s", ours / ph);
        }
    }
    if !failures.is_empty() {
        panic!("e2e targets missed:\n{}", failures.join("\n"));
    }
}
