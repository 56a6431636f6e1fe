use telemetry_core::track_event;

trait Store {
    /// A record was saved.
    #[track_event("record.saved")]
    fn save(&self);
}

fn main() {}
