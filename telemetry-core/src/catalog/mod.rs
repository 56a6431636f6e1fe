//! The catalog of every event this binary can send (STUB: rendering to come).

use crate::definition::{EventDef, registered};

/// Every registered declaration, sorted by event name then site.
#[derive(Debug, Clone)]
pub struct Catalog {
    events: Vec<&'static EventDef>,
}

impl Catalog {
    /// All declarations, sorted by name.
    pub fn events(&self) -> &[&'static EventDef] {
        &self.events
    }
}

/// Collects the catalog of this binary.
pub fn catalog() -> Catalog {
    let mut events: Vec<_> = registered().collect();
    events.sort_by(|a, b| a.name.cmp(b.name).then(a.site.cmp(&b.site)));
    Catalog { events }
}
