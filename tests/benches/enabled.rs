//! Target 2: the caller's cost per event with telemetry on (0, 3 and 8 properties), next to
//! bare posthog-rs `capture()` of the same event (built in the timed loop, and prebuilt), one
//! thread and eight contending threads, all in one run.
//!
//! Both sides deliver to the same loopback `/batch/` server, uncompressed (posthog-rs's
//! default), with queues far larger than a timed chunk: the timed loops run in chunks of
//! 10 000 events and, untimed between chunks, each side flushes so the next chunk starts on an
//! empty queue. Nothing is ever dropped (checked at the end), so no drop path is measured, and
//! each worker sends while the caller captures, as in a real app.
//!
//! `cargo bench -p telemetry-tests --bench enabled`

mod common;

use std::hint::black_box;
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use common::{call, install_ours, ph_event, posthog_client};
use criterion::{BenchmarkId, Criterion, SamplingMode, criterion_group, criterion_main};
use telemetry_tests::counting_server::CountingServer;

/// Events per timed chunk on one thread.
const CHUNK: u64 = 10_000;
/// Events per timed round, all threads together: large enough that the barrier at each round's
/// start and end (a futex wake of 8 threads on 2 cores) stays a small part of it.
const ROUND: u64 = 40_000;
const THREADS: u64 = 8;

/// Runs `iters` calls of `body` on this thread in chunks, timing only the calls.
fn single(iters: u64, drain: &dyn Fn(), body: &dyn Fn(u64)) -> Duration {
    let mut timed = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = (iters - done).min(CHUNK);
        let start = Instant::now();
        for i in done..done + n {
            body(i);
        }
        timed += start.elapsed();
        drain();
        done += n;
    }
    timed
}

/// Like [`single`] with prebuilt posthog-rs events: building is untimed, `capture()` is timed.
fn single_prebuilt(
    iters: u64,
    drain: &dyn Fn(),
    build: &dyn Fn(u64) -> posthog_rs::Event,
    capture: &dyn Fn(posthog_rs::Event),
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut done = 0;
    let mut events = Vec::with_capacity(CHUNK as usize);
    while done < iters {
        let n = (iters - done).min(CHUNK);
        events.extend((done..done + n).map(build));
        let start = Instant::now();
        for e in events.drain(..) {
            capture(e);
        }
        timed += start.elapsed();
        drain();
        done += n;
    }
    timed
}

/// `THREADS` threads make `iters` calls in total, in rounds that start together. Returns the
/// wall time of the rounds: per call, that is the machine's cost under contention (the inverse
/// of throughput), not one thread's latency.
fn contended(
    iters: u64,
    drain: &(dyn Fn() + Sync),
    prepare: &(dyn Fn(u64, u64) -> Vec<posthog_rs::Event> + Sync),
    body: &(dyn Fn(u64, &mut Vec<posthog_rs::Event>) + Sync),
) -> Duration {
    let per_thread = iters.div_ceil(THREADS).max(1);
    let chunk = ROUND / THREADS;
    let rounds = per_thread.div_ceil(chunk);
    let barrier = Barrier::new(THREADS as usize);
    let wall = Mutex::new(Duration::ZERO);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (barrier, wall) = (&barrier, &wall);
            s.spawn(move || {
                let mut start = Instant::now();
                for r in 0..rounds {
                    let from = r * chunk;
                    let n = (per_thread - from).min(chunk);
                    let base = t * per_thread + from;
                    let mut prepared = prepare(base, n);
                    barrier.wait();
                    if t == 0 {
                        start = Instant::now();
                    }
                    for i in base..base + n {
                        body(i, &mut prepared);
                    }
                    barrier.wait();
                    if t == 0 {
                        *wall.lock().unwrap() += start.elapsed();
                        drain();
                    }
                    barrier.wait();
                }
            });
        }
    });
    let wall = *wall.lock().unwrap();
    // Scale to exactly `iters` calls (the rounds may have made a few more).
    wall.mul_f64(iters as f64 / (per_thread * THREADS) as f64)
}

fn no_events(_: u64, _: u64) -> Vec<posthog_rs::Event> {
    Vec::new()
}

fn enabled(c: &mut Criterion) {
    let server = CountingServer::start(false);
    let telemetry = install_ours(&server.url(), Some(2_000_000), false);
    let client = posthog_client(&server.url(), Some(2_000_000), false);
    let ours_drain = || assert!(telemetry.flush(), "flush finished");
    let ph_drain = || client.flush();

    for (label, threads) in [("1 thread", 1u64), ("8 threads", THREADS)] {
        let mut g = c.benchmark_group(format!("enabled/{label}"));
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(20)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for props in [0usize, 3, 8] {
            if threads == 1 {
                g.bench_function(BenchmarkId::new("ours: #[track_event] call", props), |b| {
                    b.iter_custom(|n| single(n, &ours_drain, &|i| call(props, i)))
                });
                g.bench_function(
                    BenchmarkId::new("posthog-rs: build + capture()", props),
                    |b| {
                        b.iter_custom(|n| {
                            single(n, &ph_drain, &|i| client.capture(ph_event(props, i)))
                        })
                    },
                );
                g.bench_function(
                    BenchmarkId::new("posthog-rs: capture() prebuilt", props),
                    |b| {
                        b.iter_custom(|n| {
                            single_prebuilt(n, &ph_drain, &|i| ph_event(props, i), &|e| {
                                client.capture(e)
                            })
                        })
                    },
                );
            } else {
                g.bench_function(BenchmarkId::new("ours: #[track_event] call", props), |b| {
                    b.iter_custom(|n| contended(n, &ours_drain, &no_events, &|i, _| call(props, i)))
                });
                g.bench_function(
                    BenchmarkId::new("posthog-rs: build + capture()", props),
                    |b| {
                        b.iter_custom(|n| {
                            contended(n, &ph_drain, &no_events, &|i, _| {
                                client.capture(ph_event(props, i))
                            })
                        })
                    },
                );
                g.bench_function(
                    BenchmarkId::new("posthog-rs: capture() prebuilt", props),
                    |b| {
                        b.iter_custom(|n| {
                            contended(
                                n,
                                &ph_drain,
                                &|base, n| {
                                    (base..base + n).rev().map(|i| ph_event(props, i)).collect()
                                },
                                &|_, events| client.capture(events.pop().expect("prebuilt")),
                            )
                        })
                    },
                );
            }
        }
        g.finish();
    }

    // Nothing was dropped on either side, so no drop path was measured.
    telemetry.shutdown();
    client.shutdown();
    let stats = telemetry_core::stats();
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.failed, 0, "{stats:?}");
    assert_eq!(stats.sent, stats.captured, "{stats:?}");
    black_box(&server);
    eprintln!(
        "enabled: ours captured={} sent={}; server received {} events in total",
        stats.captured,
        stats.sent,
        server.events()
    );
}

criterion_group!(benches, enabled);
criterion_main!(benches);
