//! The hot path: what an instrumented call does.
//!
//! Disabled: one relaxed atomic load ([`is_active`]), nothing evaluated, nothing sent.
//! Enabled: the properties become compact [`PropValue`]s, and a [`Capture`] is handed to the
//! recorder of the current test (if any) or pushed onto the bounded pipeline queue. Hashing,
//! serialisation and I/O happen on the pipeline's worker thread, never here.

use std::sync::OnceLock;
use std::time::SystemTime;

use smallvec::SmallVec;

use crate::definition::EventDef;
use crate::property::{HashInput, PropValue};

/// The one check an instrumented call makes before doing anything else: one relaxed load of
/// the switch word (see `switch.rs`).
#[inline(always)]
pub fn is_active() -> bool {
    crate::switch::is_active()
}

/// Where captures go once the switch is on. Each consumer installs itself when it first turns
/// the switch on, so this module depends on neither (no import cycle): the test recorder
/// returns the capture back when the current thread has no recorder; the pipeline queues it.
struct Hooks {
    record: OnceLock<fn(Capture) -> Option<Capture>>,
    submit: OnceLock<fn(Capture)>,
}

static HOOKS: Hooks = Hooks {
    record: OnceLock::new(),
    submit: OnceLock::new(),
};

/// Installs the test recorder's hook (idempotent).
pub(crate) fn set_record_hook(hook: fn(Capture) -> Option<Capture>) {
    let _ = HOOKS.record.set(hook);
}

/// Installs the pipeline's hook (idempotent).
pub(crate) fn set_submit_hook(hook: fn(Capture)) {
    let _ = HOOKS.submit.set(hook);
}

/// Inline storage for up to four property values; more spill to the heap.
pub type Props = SmallVec<[PropValue; 4]>;

/// One captured event in its compact, not yet rendered form.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The static definition (name, property names, trigger).
    pub def: &'static EventDef,
    /// Values in the order of `def.props`.
    pub props: Props,
    /// A per-call subject, sent only as its salted hash.
    pub distinct_id: Option<HashInput>,
    /// When it happened.
    pub at: SystemTime,
    /// Extra properties added by the toolkit itself (lifecycle events); empty for user events.
    pub extra: Vec<(&'static str, serde_json::Value)>,
    /// A fixed uuid (lifecycle pings, see `lifecycle::dedup`); `None`: a fresh UUIDv7.
    pub uuid: Option<uuid::Uuid>,
}

/// A capture prepared before the body runs and sent (or not) after it.
///
/// The values stay in an array of exactly the declared length until the capture is sent
/// (the `SmallVec` of the capture is built then). A sync function holds it on the stack. An
/// `async fn` holds it across its body's `.await`s in a `Box` (allocated only when telemetry
/// is on), because a future's layout cannot depend on a runtime switch: inline, it grew every
/// instrumented future with telemetry off too (96 B for one property); boxed, the future is
/// 48 B whatever the event declares (plain: 16 B; `tests/tests/future_size.rs`).
#[derive(Debug)]
pub struct Pending<const N: usize> {
    def: &'static EventDef,
    props: [PropValue; N],
    distinct_id: Option<HashInput>,
}

impl<const N: usize> Pending<N> {
    /// Prepares a capture from values evaluated before the body.
    #[inline]
    pub fn new(
        def: &'static EventDef,
        props: [PropValue; N],
        distinct_id: Option<HashInput>,
    ) -> Pending<N> {
        Pending {
            def,
            props,
            distinct_id,
        }
    }

    /// Sends it now.
    #[inline]
    pub fn emit(self) {
        dispatch(Capture {
            def: self.def,
            props: Props::from_iter(self.props),
            distinct_id: self.distinct_id,
            at: SystemTime::now(),
            extra: Vec::new(),
            uuid: None,
        });
    }

    /// Sends it when `outcome` counts as success.
    #[inline]
    pub fn emit_if_success<O: Outcome + ?Sized>(self, outcome: &O) {
        if outcome.is_success() {
            self.emit();
        }
    }

    /// Sends it when `outcome` counts as failure.
    #[inline]
    pub fn emit_if_failure<O: Outcome + ?Sized>(self, outcome: &O) {
        if !outcome.is_success() {
            self.emit();
        }
    }
}

/// Hands a capture to the active recorder or the pipeline. Never blocks, never panics.
#[inline(never)]
pub(crate) fn dispatch(capture: Capture) {
    // Checked here first, so that without a recorder the capture is not moved in and out of
    // the hook (two copies of ~180 B on the hot path).
    let capture = if crate::switch::SWITCH.recorders() > 0
        && let Some(record) = HOOKS.record.get()
    {
        match record(capture) {
            Some(capture) => capture,
            None => return,
        }
    } else {
        capture
    };
    if let Some(submit) = HOOKS.submit.get() {
        submit(capture);
    }
}

/// Decides whether a return value counts as success for `on = "success"` / `"failure"`.
///
/// Implemented for `Result` (`Ok`), `Option` (`Some`), `bool`, `()` (always success), HTTP
/// responses and status codes (status below 400), and tuples led by a status code. Implement
/// it for your own types:
///
/// ```
/// use telemetry_core::Outcome;
///
/// enum Saved { Created, Rejected }
/// impl Outcome for Saved {
///     fn is_success(&self) -> bool { matches!(self, Saved::Created) }
/// }
/// assert!(Saved::Created.is_success());
/// assert!(!Saved::Rejected.is_success());
/// ```
#[diagnostic::on_unimplemented(
    message = "`on = \"success\"`/`\"failure\"` cannot tell whether `{Self}` is a success",
    note = "return a Result, an Option, an HTTP response or status code, or implement \
            `telemetry_core::Outcome` for `{Self}`",
    note = "or use `on = \"return\"` to capture whatever the function returns"
)]
pub trait Outcome {
    /// Whether the value counts as success.
    ///
    /// ```
    /// use telemetry_core::Outcome;
    /// assert!(Ok::<u8, ()>(1).is_success());
    /// assert!(!None::<u8>.is_success());
    /// ```
    fn is_success(&self) -> bool;
}

impl<T, E> Outcome for Result<T, E> {
    fn is_success(&self) -> bool {
        self.is_ok()
    }
}

impl<T> Outcome for Option<T> {
    fn is_success(&self) -> bool {
        self.is_some()
    }
}

impl Outcome for bool {
    fn is_success(&self) -> bool {
        *self
    }
}

impl Outcome for () {
    fn is_success(&self) -> bool {
        true
    }
}

/// HTTP responses (feature `http`, on by default): a status below 400 is a success.
#[cfg(feature = "http")]
mod http_outcome {
    use super::Outcome;

    impl Outcome for http::StatusCode {
        fn is_success(&self) -> bool {
            self.as_u16() < 400
        }
    }

    impl<B> Outcome for http::Response<B> {
        fn is_success(&self) -> bool {
            self.status().as_u16() < 400
        }
    }

    impl<T> Outcome for (http::StatusCode, T) {
        fn is_success(&self) -> bool {
            self.0.as_u16() < 400
        }
    }
}

impl<T: Outcome + ?Sized> Outcome for &T {
    fn is_success(&self) -> bool {
        (**self).is_success()
    }
}

impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_success(&self) -> bool {
        (**self).is_success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_the_contract() {
        assert!(Ok::<(), ()>(()).is_success());
        assert!(!Err::<(), ()>(()).is_success());
        assert!(Some(1).is_success());
        assert!(!None::<u8>.is_success());
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_outcomes_fail_from_400() {
        // Trait calls: `StatusCode` has an inherent `is_success` that means 2xx only.
        assert!(Outcome::is_success(&http::StatusCode::FOUND));
        assert!(!Outcome::is_success(&http::StatusCode::NOT_FOUND));
        let resp = http::Response::builder().status(503).body(()).unwrap();
        assert!(!Outcome::is_success(&resp));
        let redirect = http::Response::builder().status(303).body(()).unwrap();
        assert!(Outcome::is_success(&redirect));
        assert!((http::StatusCode::CREATED, "x").is_success());
    }
}
