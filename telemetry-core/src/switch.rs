//! The hot-path on/off switch: one atomic word.
//!
//! Bit 0 is the pipeline (an installed pipeline takes events); the bits above count live test
//! recorders. Every change is one atomic read-modify-write (`fetch_or`, `fetch_and`,
//! `fetch_add`, `fetch_sub`), so a recorder dropped on one thread can never overwrite a
//! pipeline switched on by another (two flags read, then one stored, could). An instrumented
//! call reads it with one relaxed load: [`is_active`].

use std::sync::atomic::{AtomicUsize, Ordering};

/// The pipeline bit.
const PIPELINE: usize = 1;
/// One live recorder.
const RECORDER: usize = 2;

/// One switch word. The process has one ([`SWITCH`]); tests race their own.
#[derive(Debug, Default)]
pub(crate) struct Switch(AtomicUsize);

impl Switch {
    pub(crate) const fn new() -> Switch {
        Switch(AtomicUsize::new(0))
    }

    /// Whether anything takes captures: the one check on the hot path.
    #[inline(always)]
    pub(crate) fn is_active(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// Turns the pipeline bit on or off, leaving the recorder count alone.
    pub(crate) fn set_pipeline(&self, on: bool) {
        if on {
            self.0.fetch_or(PIPELINE, Ordering::SeqCst);
        } else {
            self.0.fetch_and(!PIPELINE, Ordering::SeqCst);
        }
    }

    /// Whether the pipeline bit is on.
    #[cfg(test)]
    pub(crate) fn pipeline(&self) -> bool {
        self.0.load(Ordering::Relaxed) & PIPELINE != 0
    }

    /// A recorder starts.
    pub(crate) fn recorder_added(&self) {
        self.0.fetch_add(RECORDER, Ordering::SeqCst);
    }

    /// A recorder ends.
    pub(crate) fn recorder_removed(&self) {
        self.0.fetch_sub(RECORDER, Ordering::SeqCst);
    }

    /// How many recorders are live.
    pub(crate) fn recorders(&self) -> usize {
        self.0.load(Ordering::Relaxed) / RECORDER
    }
}

/// The process's switch.
pub(crate) static SWITCH: Switch = Switch::new();

/// The one check an instrumented call makes before doing anything else.
#[inline(always)]
pub(crate) fn is_active() -> bool {
    SWITCH.is_active()
}

#[cfg(test)]
mod tests {
    use super::Switch;
    use std::sync::Barrier;

    /// Recorders created and dropped on many threads race the pipeline toggle; the word always
    /// ends with exactly the pipeline's last state and no recorder.
    #[test]
    fn recorders_racing_the_pipeline_toggle_leave_the_right_state() {
        const THREADS: usize = 4;
        for round in 0..1_000 {
            let switch = Switch::new();
            let final_pipeline = round % 2 == 0;
            let start = Barrier::new(THREADS + 1);
            std::thread::scope(|s| {
                for _ in 0..THREADS {
                    s.spawn(|| {
                        start.wait();
                        for _ in 0..20 {
                            switch.recorder_added();
                            assert!(switch.is_active(), "a live recorder keeps it on");
                            switch.recorder_removed();
                        }
                    });
                }
                s.spawn(|| {
                    start.wait();
                    for i in 0..21 {
                        switch.set_pipeline(i % 2 == 0);
                    }
                    switch.set_pipeline(final_pipeline);
                });
            });
            assert_eq!(switch.recorders(), 0, "round {round}");
            assert_eq!(switch.pipeline(), final_pipeline, "round {round}");
            assert_eq!(switch.is_active(), final_pipeline, "round {round}");
        }
    }
}
