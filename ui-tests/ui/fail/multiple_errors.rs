// Every problem of one declaration is reported in one compile, each on its own token, and the
// function is still emitted: `main` calling it adds no "cannot find function" error.
use telemetry_core::track_event;

#[track_event(
    "Timer.stopped",
    on = "later",
    props(email = addr, seconds = secs, seconds = secs, projectId = id),
    trigger = "call",
)]
fn stop(addr: &str, secs: u64, id: u64) {
    let _ = (addr, secs, id);
}

fn main() {
    stop("a@example.com", 1, 2);
}
