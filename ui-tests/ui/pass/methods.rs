// Inherent and trait-impl methods with every receiver, including borrows handed out through
// `&mut self`.
#![deny(warnings)]

use telemetry_core::track_event;

pub struct Timer {
    running: bool,
    elapsed: u64,
}

impl Timer {
    /// A timer was created.
    #[track_event("timer.created", props(elapsed_seconds = elapsed))]
    pub fn new(elapsed: u64) -> Self {
        Timer {
            running: false,
            elapsed,
        }
    }

    /// A timer was read.
    #[track_event("timer.read", props(running = self.running))]
    pub fn elapsed(&self) -> &u64 {
        &self.elapsed
    }

    /// A timer's count was borrowed for writing.
    #[track_event("timer.borrowed")]
    pub fn elapsed_mut(&mut self) -> &mut u64 {
        &mut self.elapsed
    }

    /// A timer was started.
    #[track_event("timer.started", on = "call")]
    pub fn start(&mut self) -> &mut Self {
        self.running = true;
        self
    }

    /// A timer was finished.
    #[track_event("timer.finished", on = "success")]
    pub fn finish(self) -> Option<u64> {
        self.running.then_some(self.elapsed)
    }

    /// A timer was checked asynchronously.
    #[track_event("timer.checked", props(elapsed_seconds = self.elapsed))]
    pub async fn check(&mut self) -> &mut bool {
        &mut self.running
    }
}

pub trait Store {
    fn save(&mut self, id: u64) -> Result<(), String>;
    fn name(&self) -> &'static str;
    fn into_count(self) -> usize;
}

pub struct Memory(Vec<u64>);

impl Store for Memory {
    /// A record was saved.
    #[track_event("record.saved", on = "success", props(id = id))]
    fn save(&mut self, id: u64) -> Result<(), String> {
        self.0.push(id);
        Ok(())
    }

    /// A store was named.
    #[track_event("store.named")]
    fn name(&self) -> &'static str {
        "memory"
    }

    /// A store was consumed.
    #[track_event("store.consumed", props(count = self.0.len()))]
    fn into_count(self) -> usize {
        self.0.len()
    }
}

fn main() {
    let mut timer = Timer::new(1);
    *timer.elapsed_mut() += 1;
    timer.start();
    assert_eq!(*timer.elapsed(), 2);
    let _ = timer.check();
    assert_eq!(timer.finish(), Some(2));
    let mut store = Memory(Vec::new());
    store.save(1).unwrap();
    assert_eq!(store.name(), "memory");
    assert_eq!(store.into_count(), 1);
}
