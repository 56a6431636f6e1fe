//! An in-memory sink, for tests that go through the whole pipeline.

use std::sync::{Arc, Mutex};

use super::{Sink, SinkError};
use crate::wire::WireEvent;

/// Keeps every delivered event; read them through the [`MemoryEvents`] handle.
///
/// ```
/// use telemetry_core::sink::{MemorySink, Sink};
/// let (mut sink, events) = MemorySink::new();
/// sink.send(&[]).unwrap();
/// assert!(events.snapshot().is_empty());
/// ```
#[derive(Debug)]
pub struct MemorySink {
    events: MemoryEvents,
}

/// A shared view of what a [`MemorySink`] received.
///
/// ```
/// use telemetry_core::sink::{MemorySink, Sink};
/// let (mut sink, events) = MemorySink::new();
/// let reader = events.clone(); // every clone sees the same events
/// sink.send(&[]).unwrap();
/// assert!(reader.snapshot().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryEvents(Arc<Mutex<Vec<WireEvent>>>);

impl MemorySink {
    /// A new sink and the handle to read it.
    ///
    /// ```
    /// let (sink, events) = telemetry_core::sink::MemorySink::new();
    /// let builder = telemetry_core::Telemetry::builder().sink(sink); // then .install()
    /// assert!(events.snapshot().is_empty());
    /// # drop(builder);
    /// ```
    pub fn new() -> (MemorySink, MemoryEvents) {
        let events = MemoryEvents::default();
        (
            MemorySink {
                events: events.clone(),
            },
            events,
        )
    }
}

impl MemoryEvents {
    /// A copy of the events received so far.
    ///
    /// ```
    /// let (_sink, events) = telemetry_core::sink::MemorySink::new();
    /// assert!(events.snapshot().is_empty());
    /// ```
    pub fn snapshot(&self) -> Vec<WireEvent> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Takes the events received so far.
    ///
    /// ```
    /// let (_sink, events) = telemetry_core::sink::MemorySink::new();
    /// assert!(events.take().is_empty());
    /// ```
    pub fn take(&self) -> Vec<WireEvent> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Sink for MemorySink {
    fn kind(&self) -> &'static str {
        "memory"
    }

    fn send(&mut self, events: &[WireEvent]) -> Result<(), SinkError> {
        self.events
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(events);
        Ok(())
    }
}
