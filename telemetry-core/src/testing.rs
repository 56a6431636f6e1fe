//! Asserting what a code path emitted, in an ordinary `#[test]`.
//!
//! [`record`] runs a closure with a recorder installed on the current thread and returns the
//! events it emitted, rendered exactly as a sink would receive them (hashes use the fixed
//! [`TEST_SALT`]). Nothing is sent anywhere, and recordings on different threads or tests never
//! see each other's events.
//!
//! ```
//! use telemetry_core::{track_event, testing};
//!
//! /// A project was created.
//! #[track_event("project.created", props(billable = billable))]
//! fn create_project(billable: bool) -> Result<u32, String> { Ok(7) }
//!
//! let events = testing::record(|| { create_project(true).unwrap(); });
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].name, "project.created");
//! assert_eq!(events[0].properties["billable"], true);
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use serde_json::{Map, Value};

use crate::capture::Capture;
use crate::fingerprint::Identity;

/// The salt recorders hash with, so tests can compute expected hashes.
///
/// ```
/// assert_eq!(telemetry_core::testing::TEST_SALT.len(), 32);
/// ```
pub const TEST_SALT: &[u8; 32] = b"telemetry-core-test-salt-0000000";
/// The install id recorders use; the recorded anonymous `distinct_id` derives from it.
///
/// ```
/// assert_eq!(telemetry_core::testing::TEST_INSTALL_ID.len(), 36); // a UUID
/// ```
pub const TEST_INSTALL_ID: &str = "00000000-0000-4000-8000-000000000000";

type Sink = Rc<RefCell<Vec<RecordedEvent>>>;

thread_local! {
    static CURRENT: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// One event a recorder saw.
///
/// ```
/// use telemetry_core::{testing, track};
///
/// let events = testing::record(|| track!("search.run", description = "A search ran.", props(results = 3u32)));
/// assert_eq!(events[0].name, "search.run");
/// assert_eq!(events[0].properties["results"], 3);
/// assert_eq!(events[0].distinct_id, testing::anonymous_distinct_id());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The event name.
    pub name: &'static str,
    /// Declared properties only (no automatic ones), rendered as they would be sent.
    pub properties: Map<String, Value>,
    /// The `distinct_id` it would be sent under.
    pub distinct_id: String,
    /// Where it was declared.
    pub site: crate::Site,
}

impl RecordedEvent {
    /// A property's value, if present.
    ///
    /// ```
    /// use telemetry_core::{testing, track};
    ///
    /// let events = testing::record(|| track!("search.cleared", description = "A search was cleared.", props(had_results = true)));
    /// assert_eq!(events[0].prop("had_results"), Some(&serde_json::Value::Bool(true)));
    /// assert_eq!(events[0].prop("query"), None);
    /// ```
    pub fn prop(&self, name: &str) -> Option<&Value> {
        self.properties.get(name)
    }
}

/// The hash a recorder produces for `value` (what `Hashed(value)` records as).
///
/// ```
/// assert_eq!(telemetry_core::testing::hash("u-1").len(), 64);
/// ```
pub fn hash(value: impl crate::HashSource) -> String {
    test_identity().hash(&value.hash_input().bytes())
}

/// The anonymous `distinct_id` a recorder assigns when a call gives none.
///
/// ```
/// use telemetry_core::{testing, track_event};
///
/// /// The settings page was opened.
/// #[track_event("settings.opened")]
/// fn open_settings() {}
///
/// let events = testing::record(open_settings);
/// assert_eq!(events[0].distinct_id, testing::anonymous_distinct_id());
/// ```
pub fn anonymous_distinct_id() -> String {
    test_identity().distinct_id().to_owned()
}

fn test_identity() -> Identity {
    Identity::new(TEST_SALT.to_vec(), TEST_INSTALL_ID)
}

/// Gives the capture to this thread's recorder; returns it back when there is none.
/// Installed as capture's record hook by the first recorder.
fn try_record(capture: Capture) -> Option<Capture> {
    CURRENT.with(|current| match current.borrow().as_ref() {
        Some(sink) => {
            let identity = test_identity();
            let mut properties = Map::new();
            crate::wire::render_props(capture.def, &capture.props, &identity, &mut properties);
            let distinct_id = crate::wire::distinct_id(&capture, &identity);
            sink.borrow_mut().push(RecordedEvent {
                name: capture.def.name,
                properties,
                distinct_id,
                site: capture.def.site,
            });
            None
        }
        None => Some(capture),
    })
}

/// Counts a live recorder and keeps the hot-path switch on while it exists.
struct Registered;

impl Registered {
    fn new() -> Registered {
        crate::capture::set_record_hook(try_record);
        crate::switch::SWITCH.recorder_added();
        Registered
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        crate::switch::SWITCH.recorder_removed();
    }
}

/// Installs `sink` as this thread's recorder for the duration of `f`.
fn with_sink<R>(sink: &Sink, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Sink>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.with(|c| *c.borrow_mut() = self.0.take());
        }
    }
    let previous = CURRENT.with(|c| c.borrow_mut().replace(sink.clone()));
    let _restore = Restore(previous);
    f()
}

/// Runs `f` and returns the events it emitted on this thread.
///
/// ```
/// use telemetry_core::{testing, track_event};
///
/// /// A user signed in.
/// #[track_event("session.signed_in", distinct_id = user_id)]
/// fn sign_in(user_id: u64) {}
///
/// let events = testing::record(|| sign_in(42));
/// assert_eq!(events.len(), 1);
/// assert_eq!(events[0].distinct_id, testing::hash(42u64));
/// ```
pub fn record<R>(f: impl FnOnce() -> R) -> Vec<RecordedEvent> {
    record_with(f).1
}

/// Runs `f` and returns its result with the events it emitted on this thread.
///
/// ```
/// let (value, events) = telemetry_core::testing::record_with(|| 42);
/// assert_eq!(value, 42);
/// assert!(events.is_empty());
/// ```
pub fn record_with<R>(f: impl FnOnce() -> R) -> (R, Vec<RecordedEvent>) {
    let _registered = Registered::new();
    let sink: Sink = Rc::default();
    let value = with_sink(&sink, f);
    let events = sink.borrow().clone();
    (value, events)
}

/// Awaits `future` and returns the events it emitted while being polled.
///
/// The recorder follows the future across `.await` points and executor threads; work spawned
/// onto other tasks is not recorded.
///
/// ```
/// # async fn demo() {
/// let events = telemetry_core::testing::record_async(async { /* call handlers */ }).await;
/// assert!(events.is_empty());
/// # }
/// ```
pub async fn record_async<F: Future>(future: F) -> Vec<RecordedEvent> {
    record_async_with(future).await.1
}

/// Like [`record_async`], also returning the future's output.
///
/// ```
/// # async fn demo() {
/// let (value, events) = telemetry_core::testing::record_async_with(async { 7 }).await;
/// assert_eq!(value, 7);
/// assert!(events.is_empty());
/// # }
/// ```
pub async fn record_async_with<F: Future>(future: F) -> (F::Output, Vec<RecordedEvent>) {
    let registered = Registered::new();
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let output = Recorded {
        inner: future,
        events: events.clone(),
    }
    .await;
    drop(registered);
    let events = std::mem::take(&mut *events.lock().unwrap_or_else(|e| e.into_inner()));
    (output, events)
}

pin_project_lite::pin_project! {
    /// A future that installs a fresh thread-local recorder for each poll and keeps what it saw.
    struct Recorded<F> {
        #[pin]
        inner: F,
        events: std::sync::Arc<std::sync::Mutex<Vec<RecordedEvent>>>,
    }
}

impl<F: Future> Future for Recorded<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let sink: Sink = Rc::default();
        let inner = this.inner;
        let poll = with_sink(&sink, || inner.poll(cx));
        this.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(sink.borrow_mut().drain(..));
        poll
    }
}
