//! Which lifecycle pings are due: pure decisions over the install state, the running version and
//! the clock.
//!
//! The rules:
//!
//! - `telemetry.install` is due while this install state has never had one accepted (so after
//!   [`forget`](crate::state::InstallState::forget) it is due again).
//! - `telemetry.update` is due when a version was recorded and the running version differs from
//!   it. The first run has nothing to compare with: the version is only recorded. While the
//!   install ping is due, no update is (the install is the first record of this state).
//! - `telemetry.health` is due when none was ever accepted, or the last one is at least the
//!   interval old (24 h by default).
//! - A ping counts as sent only when [`mark_sent`] records it, which the caller does after a sink
//!   accepted the event: a start whose pings failed retries them next time.
//!
//! The version is recorded only by accepted pings, so `telemetry.update` compares with the last
//! version reported, not merely the last one run.
//!
//! **A clock that went backwards** (a last ping dated in the future) makes the health ping due:
//! the stored time cannot be trusted, and the alternative (waiting until the clock catches up)
//! could silence health pings for as long as the jump. The cost is at most one extra health ping
//! per backwards jump, since [`mark_sent`] then stores the current time.
//!
//! ```
//! use chrono::Utc;
//! use telemetry_core::__private::internals::lifecycle::{DEFAULT_HEALTH_INTERVAL, Ping, due_pings, mark_sent};
//! use telemetry_core::__private::internals::state::InstallState;
//!
//! let mut state = InstallState::new();
//! let now = Utc::now();
//! let due = due_pings(&state, "1.0.0", now, DEFAULT_HEALTH_INTERVAL);
//! assert_eq!(due, [Ping::Install, Ping::Health]);
//! for ping in &due {
//!     // ... hand the event to the sink; only when it accepted it:
//!     mark_sent(&mut state, ping.kind(), now, "1.0.0");
//! }
//! assert!(due_pings(&state, "1.0.0", now, DEFAULT_HEALTH_INTERVAL).is_empty());
//! assert_eq!(
//!     due_pings(&state, "1.1.0", now, DEFAULT_HEALTH_INTERVAL),
//!     [Ping::Update { old_version: "1.0.0".into(), new_version: "1.1.0".into() }],
//! );
//! ```

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use crate::definition::EventDef;
use crate::lifecycle::events;
use crate::state::InstallState;

/// How often `telemetry.health` is due by default: every 24 hours.
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// The kind of a lifecycle ping, as recorded in the install state.
///
/// ```
/// use telemetry_core::__private::internals::lifecycle::PingKind;
/// assert_eq!(PingKind::Update.event_name(), "telemetry.update");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PingKind {
    /// `telemetry.install`.
    Install,
    /// `telemetry.update`.
    Update,
    /// `telemetry.health`.
    Health,
}

impl PingKind {
    /// The event's definition in the catalog.
    ///
    /// ```
    /// use telemetry_core::__private::internals::lifecycle::PingKind;
    /// assert_eq!(PingKind::Health.definition().name, "telemetry.health");
    /// ```
    pub fn definition(self) -> &'static EventDef {
        match self {
            PingKind::Install => &events::INSTALL,
            PingKind::Update => &events::UPDATE,
            PingKind::Health => &events::HEALTH,
        }
    }

    /// The event name, for example `"telemetry.install"`.
    ///
    /// ```
    /// use telemetry_core::__private::internals::lifecycle::PingKind;
    /// assert_eq!(PingKind::Install.event_name(), "telemetry.install");
    /// ```
    pub fn event_name(self) -> &'static str {
        self.definition().name
    }
}

/// A lifecycle ping that is due, with what only it carries.
///
/// ```
/// use serde_json::json;
/// use telemetry_core::__private::internals::lifecycle::{Ping, PingKind};
///
/// let ping = Ping::Update { old_version: "1.0.0".into(), new_version: "1.1.0".into() };
/// assert_eq!(ping.kind(), PingKind::Update);
/// assert_eq!(
///     ping.extra_properties(),
///     [("old_version", json!("1.0.0")), ("new_version", json!("1.1.0"))],
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ping {
    /// `telemetry.install`: the first one for this install state.
    Install,
    /// `telemetry.update`: the version changed since the last one recorded.
    Update {
        /// The version recorded before this start.
        old_version: String,
        /// The version now running.
        new_version: String,
    },
    /// `telemetry.health`: a sign of life.
    Health,
}

impl Ping {
    /// This ping's kind.
    ///
    /// ```
    /// use telemetry_core::__private::internals::lifecycle::{Ping, PingKind};
    /// assert_eq!(Ping::Health.kind(), PingKind::Health);
    /// ```
    pub fn kind(&self) -> PingKind {
        match self {
            Ping::Install => PingKind::Install,
            Ping::Update { .. } => PingKind::Update,
            Ping::Health => PingKind::Health,
        }
    }

    /// The event name, for example `"telemetry.update"`.
    ///
    /// ```
    /// assert_eq!(telemetry_core::__private::internals::lifecycle::Ping::Install.event_name(), "telemetry.install");
    /// ```
    pub fn event_name(&self) -> &'static str {
        self.kind().event_name()
    }

    /// The properties this ping carries besides the common ones
    /// ([`common_properties`](super::events::common_properties)
    /// and the automatic `app_version`): `old_version` and `new_version` for an update, none
    /// otherwise.
    ///
    /// ```
    /// assert!(telemetry_core::__private::internals::lifecycle::Ping::Install.extra_properties().is_empty());
    /// ```
    pub fn extra_properties(&self) -> Vec<(&'static str, Value)> {
        match self {
            Ping::Update {
                old_version,
                new_version,
            } => vec![
                ("old_version", Value::from(sent_version(old_version))),
                ("new_version", Value::from(sent_version(new_version))),
            ],
            Ping::Install | Ping::Health => Vec::new(),
        }
    }
}

/// A version as sent: [`sanitize_version`](crate::config::sanitize_version), or `"invalid"`.
fn sent_version(version: &str) -> String {
    crate::config::sanitize_version(version).unwrap_or_else(|invalid| invalid.to_owned())
}

/// The lifecycle pings due now, in the order to send them: install, update, health.
///
/// ```
/// use chrono::Utc;
/// use telemetry_core::__private::internals::lifecycle::{DEFAULT_HEALTH_INTERVAL, Ping, due_pings};
/// use telemetry_core::__private::internals::state::InstallState;
///
/// let state = InstallState::new();
/// assert_eq!(
///     due_pings(&state, "0.1.0", Utc::now(), DEFAULT_HEALTH_INTERVAL),
///     [Ping::Install, Ping::Health],
/// );
/// ```
pub fn due_pings(
    state: &InstallState,
    app_version: &str,
    now: DateTime<Utc>,
    health_interval: Duration,
) -> Vec<Ping> {
    let mut due = Vec::with_capacity(3);
    if state.install_sent_at.is_none() {
        due.push(Ping::Install);
    } else if let Some(old) = state.last_version.as_deref()
        && old != app_version
    {
        due.push(Ping::Update {
            old_version: old.to_owned(),
            new_version: app_version.to_owned(),
        });
    }
    if health_due(state, now, health_interval) {
        due.push(Ping::Health);
    }
    due
}

/// Whether `telemetry.health` is due: never accepted, at least `interval` old, or dated in the
/// future (the clock went backwards).
///
/// ```
/// use chrono::{TimeDelta, Utc};
/// use std::time::Duration;
/// use telemetry_core::__private::internals::lifecycle::health_due;
/// use telemetry_core::__private::internals::state::InstallState;
///
/// let mut state = InstallState::new();
/// let now = Utc::now();
/// let hour = Duration::from_secs(3600);
/// assert!(health_due(&state, now, hour));
/// state.health_sent_at = Some(now - TimeDelta::minutes(59));
/// assert!(!health_due(&state, now, hour));
/// state.health_sent_at = Some(now - TimeDelta::minutes(60));
/// assert!(health_due(&state, now, hour));
/// ```
pub fn health_due(state: &InstallState, now: DateTime<Utc>, interval: Duration) -> bool {
    next_health_in(state, now, interval).is_zero()
}

/// How long until `telemetry.health` is due: zero when it is due now. For a periodic timer.
///
/// ```
/// use chrono::{TimeDelta, Utc};
/// use std::time::Duration;
/// use telemetry_core::__private::internals::lifecycle::next_health_in;
/// use telemetry_core::__private::internals::state::InstallState;
///
/// let mut state = InstallState::new();
/// let now = Utc::now();
/// state.health_sent_at = Some(now - TimeDelta::minutes(45));
/// assert_eq!(next_health_in(&state, now, Duration::from_secs(3600)), Duration::from_secs(15 * 60));
/// ```
pub fn next_health_in(state: &InstallState, now: DateTime<Utc>, interval: Duration) -> Duration {
    let Some(last) = state.health_sent_at else {
        return Duration::ZERO;
    };
    if last > now {
        // The clock went backwards: see the module documentation.
        return Duration::ZERO;
    }
    // An interval too large for chrono is "never again", in practice.
    let interval = TimeDelta::from_std(interval).unwrap_or(TimeDelta::MAX);
    let elapsed = now - last;
    if elapsed >= interval {
        Duration::ZERO
    } else {
        (interval - elapsed).to_std().unwrap_or(Duration::MAX)
    }
}

/// Records that a sink accepted the `kind` ping at `now` while `app_version` was running. Call
/// it only after the sink accepted the event, inside [`StateStore::update`] so that it is
/// persisted.
///
/// - Install: stores the time and records the version (the first record of this state).
/// - Update: stores the time and records the new version.
/// - Health: stores the time; records the version only if none was recorded yet.
///
/// [`StateStore::update`]: crate::state::StateStore::update
///
/// ```
/// use chrono::Utc;
/// use telemetry_core::__private::internals::lifecycle::{PingKind, mark_sent};
/// use telemetry_core::__private::internals::state::InstallState;
///
/// let mut state = InstallState::new();
/// let now = Utc::now();
/// mark_sent(&mut state, PingKind::Install, now, "1.0.0");
/// assert_eq!(state.install_sent_at, Some(now));
/// assert_eq!(state.last_version.as_deref(), Some("1.0.0"));
/// ```
pub fn mark_sent(state: &mut InstallState, kind: PingKind, now: DateTime<Utc>, app_version: &str) {
    match kind {
        PingKind::Install => {
            state.install_sent_at = Some(now);
            state.last_version = Some(app_version.to_owned());
        }
        PingKind::Update => {
            state.update_sent_at = Some(now);
            state.last_version = Some(app_version.to_owned());
        }
        PingKind::Health => {
            state.health_sent_at = Some(now);
            if state.last_version.is_none() {
                state.last_version = Some(app_version.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = DEFAULT_HEALTH_INTERVAL;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn sent_all(state: &mut InstallState, version: &str, now: DateTime<Utc>) {
        for ping in due_pings(state, version, now, DAY) {
            mark_sent(state, ping.kind(), now, version);
        }
    }

    #[test]
    fn fresh_state_is_due_install_and_health_but_no_update() {
        let state = InstallState::new();
        assert_eq!(
            due_pings(&state, "1.0.0", t0(), DAY),
            [Ping::Install, Ping::Health]
        );
    }

    #[test]
    fn install_is_sent_once() {
        let mut state = InstallState::new();
        mark_sent(&mut state, PingKind::Install, t0(), "1.0.0");
        let later = t0() + TimeDelta::days(30);
        assert!(!due_pings(&state, "1.0.0", later, DAY).contains(&Ping::Install));
    }

    #[test]
    fn install_not_marked_is_due_again() {
        // A start whose install ping failed (nothing recorded) retries it.
        let mut state = InstallState::new();
        mark_sent(&mut state, PingKind::Health, t0(), "1.0.0");
        assert_eq!(due_pings(&state, "1.0.0", t0(), DAY), [Ping::Install]);
    }

    #[test]
    fn first_run_records_version_without_update() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        assert_eq!(state.last_version.as_deref(), Some("1.0.0"));
        assert!(state.update_sent_at.is_none());
        assert!(due_pings(&state, "1.0.0", t0(), DAY).is_empty());
    }

    #[test]
    fn version_change_is_due_an_update_with_both_versions() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        let due = due_pings(&state, "1.1.0", t0() + TimeDelta::hours(1), DAY);
        assert_eq!(
            due,
            [Ping::Update {
                old_version: "1.0.0".into(),
                new_version: "1.1.0".into()
            }]
        );
        // A downgrade is a version change too.
        assert_eq!(
            due_pings(&state, "0.9.0", t0(), DAY),
            [Ping::Update {
                old_version: "1.0.0".into(),
                new_version: "0.9.0".into()
            }]
        );
    }

    #[test]
    fn update_is_recorded_only_when_marked() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        let now = t0() + TimeDelta::hours(1);
        // The update ping failed: still due next start.
        assert_eq!(due_pings(&state, "1.1.0", now, DAY).len(), 1);
        mark_sent(&mut state, PingKind::Update, now, "1.1.0");
        assert_eq!(state.last_version.as_deref(), Some("1.1.0"));
        assert_eq!(state.update_sent_at, Some(now));
        assert!(due_pings(&state, "1.1.0", now, DAY).is_empty());
    }

    #[test]
    fn health_does_not_record_over_a_pending_update() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        let next_day = t0() + TimeDelta::days(1);
        // Update failed, health succeeded: the update stays due.
        mark_sent(&mut state, PingKind::Health, next_day, "2.0.0");
        assert_eq!(state.last_version.as_deref(), Some("1.0.0"));
        assert!(matches!(
            due_pings(&state, "2.0.0", next_day, DAY)[..],
            [Ping::Update { .. }]
        ));
    }

    #[test]
    fn health_records_a_missing_version() {
        // A state with an install but no version (older writer): the next ping records it.
        let mut state = InstallState::new();
        state.install_sent_at = Some(t0());
        assert_eq!(due_pings(&state, "1.0.0", t0(), DAY), [Ping::Health]);
        mark_sent(&mut state, PingKind::Health, t0(), "1.0.0");
        assert_eq!(state.last_version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn no_update_while_install_is_due() {
        let mut state = InstallState::new();
        state.last_version = Some("0.9.0".into());
        assert_eq!(
            due_pings(&state, "1.0.0", t0(), DAY),
            [Ping::Install, Ping::Health]
        );
        mark_sent(&mut state, PingKind::Install, t0(), "1.0.0");
        assert_eq!(state.last_version.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn health_at_most_once_per_interval() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        for (offset, due) in [
            (TimeDelta::zero(), false),
            (TimeDelta::hours(23), false),
            (TimeDelta::hours(24) - TimeDelta::milliseconds(1), false),
            (TimeDelta::hours(24), true),
            (TimeDelta::days(10), true),
        ] {
            assert_eq!(
                health_due(&state, t0() + offset, DAY),
                due,
                "after {offset}"
            );
        }
        mark_sent(
            &mut state,
            PingKind::Health,
            t0() + TimeDelta::hours(25),
            "1.0.0",
        );
        assert!(!health_due(&state, t0() + TimeDelta::hours(26), DAY));
    }

    #[test]
    fn health_interval_is_configurable() {
        let mut state = InstallState::new();
        mark_sent(&mut state, PingKind::Health, t0(), "1.0.0");
        let short = Duration::from_millis(50);
        assert!(!health_due(
            &state,
            t0() + TimeDelta::milliseconds(49),
            short
        ));
        assert!(health_due(
            &state,
            t0() + TimeDelta::milliseconds(50),
            short
        ));
        assert!(health_due(&state, t0(), Duration::ZERO));
        // Absurdly long: never due again, no overflow.
        assert!(!health_due(
            &state,
            t0() + TimeDelta::days(10_000),
            Duration::MAX
        ));
        assert!(next_health_in(&state, t0(), Duration::MAX) > Duration::from_secs(1 << 40));
    }

    #[test]
    fn clock_going_backwards_makes_health_due() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        let earlier = t0() - TimeDelta::hours(2);
        assert!(health_due(&state, earlier, DAY));
        assert_eq!(next_health_in(&state, earlier, DAY), Duration::ZERO);
        // Once re-sent, the stored time is the (earlier) now and the interval applies again.
        mark_sent(&mut state, PingKind::Health, earlier, "1.0.0");
        assert!(!health_due(&state, earlier + TimeDelta::hours(1), DAY));
        // Install and update are not time-based: a backwards clock does not repeat them.
        assert!(!due_pings(&state, "1.0.0", earlier, DAY).contains(&Ping::Install));
    }

    #[test]
    fn next_health_counts_down() {
        let mut state = InstallState::new();
        assert_eq!(next_health_in(&state, t0(), DAY), Duration::ZERO);
        mark_sent(&mut state, PingKind::Health, t0(), "1.0.0");
        assert_eq!(next_health_in(&state, t0(), DAY), DAY);
        assert_eq!(
            next_health_in(&state, t0() + TimeDelta::hours(20), DAY),
            Duration::from_secs(4 * 3600)
        );
        assert_eq!(
            next_health_in(&state, t0() + TimeDelta::hours(30), DAY),
            Duration::ZERO
        );
    }

    #[test]
    fn forget_makes_install_due_again_without_update() {
        let mut state = InstallState::new();
        sent_all(&mut state, "1.0.0", t0());
        state.forget();
        assert_eq!(
            due_pings(&state, "2.0.0", t0(), DAY),
            [Ping::Install, Ping::Health]
        );
    }

    #[test]
    fn kinds_map_to_the_catalog_definitions() {
        assert_eq!(PingKind::Install.event_name(), "telemetry.install");
        assert_eq!(PingKind::Update.event_name(), "telemetry.update");
        assert_eq!(PingKind::Health.event_name(), "telemetry.health");
        let update = Ping::Update {
            old_version: "a".into(),
            new_version: "b".into(),
        };
        // The extra properties are exactly the ones the definition declares beyond the common.
        let declared: Vec<_> = PingKind::Update
            .definition()
            .props
            .iter()
            .map(|p| p.name)
            .filter(|n| !events::COMMON_PROPS.iter().any(|c| c.name == *n))
            .collect();
        let extra: Vec<_> = update
            .extra_properties()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(extra, declared);
        assert!(Ping::Health.extra_properties().is_empty());
    }
}
