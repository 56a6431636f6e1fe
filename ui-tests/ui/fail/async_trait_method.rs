// #[async_trait] expands first (it is on the impl) and turns the method into a fn returning a
// boxed future; instrumenting that would capture before the body runs, so it is rejected.
use async_trait::async_trait;
use telemetry_core::track_event;

#[async_trait]
trait Store {
    async fn save(&self, n: u32) -> u32;
}

struct Memory;

#[async_trait]
impl Store for Memory {
    /// A value was saved.
    #[track_event("value.saved", props(count = n))]
    async fn save(&self, n: u32) -> u32 {
        n
    }
}

fn main() {}
