//! The remote kill switch: a PostHog feature flag (`TELEMETRY_REMOTE_FLAG` or
//! [`TelemetryBuilder::remote_flag`](crate::TelemetryBuilder::remote_flag), whose docs are the
//! user's description) that can switch telemetry off, or drop some events, for an install.
//!
//! The flag is evaluated through posthog-rs for the install fingerprint, on a thread of its own
//! (never the caller's, never inside an async runtime), when the pipeline's worker starts and
//! then every [`DEFAULT_INTERVAL`] (hourly). It only runs while local consent has telemetry on,
//! so it can turn telemetry off but never on. The request carries the install fingerprint as
//! `distinct_id` and the install's context as person properties, nothing else.
//!
//! - Until the first evaluation answers (at most [`DEFAULT_HOLD`]), the worker holds events
//!   (bounded by the queue) and sends nothing, lifecycle pings included.
//! - Flag disabled for this install: nothing is sent; captures are counted as dropped
//!   ([`Stats::dropped_remotely`](crate::Stats::dropped_remotely)).
//! - Flag enabled with a JSON payload `{"drop": ["event.name", ...]}`: those events are dropped
//!   (counted the same way).
//! - Flag unknown, or the flags service unreachable or failing: the last decision persisted in
//!   the install state, else on.
//!
//! Part of the `posthog` feature (on by default), like the builder's `remote_flag*` methods
//! and [`Status::remote`](crate::Status::remote).

pub mod decision;
mod flags;
mod poller;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossbeam_channel::{Receiver, Sender};

pub use decision::{Decision, decide};
pub(crate) use flags::FlagsEndpoint;

use crate::fingerprint::Identity;
use crate::state::{RemoteRecord, StateStore};
use crate::wire::InstallContext;

/// How often a running process evaluates the flag again: hourly.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60 * 60);
/// How long events are held at start for the first answer before the fallback applies.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(5);

/// Where the decision in force comes from.
///
/// ```
/// use telemetry_core::{DecisionSource, EnvConfig, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder()
///     .state_dir(dir.path())
///     .posthog("phc_project_key", None)
///     .remote_flag("telemetry-kill-switch")
///     .env(EnvConfig::default()) // off: the flag is never asked
///     .install();
/// assert_eq!(telemetry.status().remote.unwrap().source, DecisionSource::Default);
/// # telemetry.shutdown();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionSource {
    /// The flags service answered for this flag in this process.
    FlagsService,
    /// The decision persisted in the install state (from an earlier answer).
    Persisted,
    /// Nothing known: on.
    Default,
}

/// The remote kill switch as an admin page shows it.
///
/// ```
/// use telemetry_core::{EnvConfig, Telemetry};
/// let dir = tempfile::tempdir().unwrap();
/// let telemetry = Telemetry::builder()
///     .state_dir(dir.path())
///     .posthog("phc_project_key", None)
///     .remote_flag("telemetry-kill-switch")
///     .env(EnvConfig::default())
///     .install();
/// let remote = telemetry.status().remote.unwrap();
/// assert_eq!(remote.flag, "telemetry-kill-switch");
/// assert!(!remote.disabled);
/// # telemetry.shutdown();
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RemoteStatus {
    /// The feature flag key.
    pub flag: String,
    /// `"pending"` (events held until the first answer), `"on"` or `"off"`.
    pub state: &'static str,
    /// Whether the flag switched telemetry off for this install.
    pub disabled: bool,
    /// Events the flag's payload drops.
    pub dropped_events: Vec<String>,
    /// Where the decision in force comes from.
    pub source: DecisionSource,
    /// When the flags service gave the decision in force (RFC 3339), if it ever did.
    pub decided_at: Option<String>,
    /// When the flag was last evaluated in this process (RFC 3339), answered or not.
    pub evaluated_at: Option<String>,
    /// Why the last evaluation did not give a decision (unreachable, unknown flag, bad payload).
    pub last_error: Option<String>,
    /// All of the above in words.
    pub summary: String,
}

/// The switch's state, shared by the installation (status), the worker (what it may send)
/// and the poller (which updates it).
pub(crate) struct Remote {
    key: String,
    interval: Duration,
    hold: Duration,
    endpoint: FlagsEndpoint,
    store: Arc<StateStore>,
    current: RwLock<Current>,
    /// Until when the worker holds events for the first answer (set when first attached).
    hold_until: Mutex<Option<Instant>>,
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
}

struct Current {
    decision: Arc<Decision>,
    source: DecisionSource,
    decided_at: Option<DateTime<Utc>>,
    /// An evaluation finished in this process (answered or failed): holding ends.
    evaluated_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

/// A worker's link to the switch; dropping it (the worker exits) stops the poller.
pub(crate) struct Attached {
    remote: Arc<Remote>,
    _poller: Option<poller::Poller>,
}

impl Attached {
    /// The switch.
    pub(crate) fn remote(&self) -> &Remote {
        &self.remote
    }
}

impl Remote {
    /// The switch for flag `key`, starting from the decision persisted for it, if any.
    pub(crate) fn new(
        key: String,
        interval: Duration,
        hold: Duration,
        endpoint: FlagsEndpoint,
        store: Arc<StateStore>,
    ) -> Arc<Remote> {
        let persisted = store.state().remote.filter(|r| r.flag == key);
        let current = match persisted {
            Some(record) => Current {
                decision: Arc::new(if record.enabled {
                    Decision::On {
                        drop: record.drop.clone(),
                    }
                } else {
                    Decision::Off
                }),
                source: DecisionSource::Persisted,
                decided_at: Some(record.decided_at),
                evaluated_at: None,
                last_error: None,
            },
            None => Current {
                decision: Arc::new(Decision::on()),
                source: DecisionSource::Default,
                decided_at: None,
                evaluated_at: None,
                last_error: None,
            },
        };
        let (wake_tx, wake_rx) = crossbeam_channel::bounded(1);
        Arc::new(Remote {
            key,
            interval: interval.max(Duration::from_millis(10)),
            hold,
            endpoint,
            store,
            current: RwLock::new(current),
            hold_until: Mutex::new(None),
            wake_tx,
            wake_rx,
        })
    }

    /// Starts evaluating for a worker that sends in pipeline epoch `epoch`. The first worker
    /// of the process starts the hold.
    pub(crate) fn attach(
        self: &Arc<Remote>,
        identity: Arc<RwLock<Identity>>,
        context: Arc<InstallContext>,
        epoch: u64,
    ) -> Attached {
        lock(&self.hold_until).get_or_insert_with(|| Instant::now() + self.hold);
        Attached {
            remote: self.clone(),
            _poller: poller::spawn(self.clone(), identity, context, epoch),
        }
    }

    /// Until when the worker holds events: `Some` while no evaluation has finished in this
    /// process and the hold has not run out.
    pub(crate) fn hold_until(&self) -> Option<Instant> {
        if self.read().evaluated_at.is_some() {
            return None;
        }
        let until = (*lock(&self.hold_until))?;
        (Instant::now() < until).then_some(until)
    }

    /// The decision in force.
    pub(crate) fn decision(&self) -> Arc<Decision> {
        self.read().decision.clone()
    }

    /// Whether the flag switched telemetry off.
    pub(crate) fn disabled(&self) -> bool {
        self.read().decision.is_off()
    }

    /// Signalled after every evaluation (so the worker stops holding, or re-checks pings).
    pub(crate) fn wake(&self) -> &Receiver<()> {
        &self.wake_rx
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies one evaluation's outcome (from the poller).
    fn apply(&self, outcome: Result<flags::Answer, String>) {
        let now = Utc::now();
        let mut record = None;
        {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            let first = current.evaluated_at.is_none();
            current.evaluated_at = Some(now);
            let answer = outcome.and_then(|(flags, payloads)| {
                decide(&self.key, &flags, &payloads)
                    .map_err(|bad| format!("{bad}; the payload is ignored"))
            });
            let (decision, error) = match answer {
                Ok(Some(decision)) => (Some(decision), None),
                Ok(None) => (
                    None,
                    Some(format!(
                        "the flags service does not know the flag {:?} (not in its answer)",
                        self.key
                    )),
                ),
                Err(error) => (None, Some(error)),
            };
            if let Some(decision) = decision {
                if *current.decision != decision || first {
                    announce(&self.key, &current.decision, &decision);
                }
                current.decision = Arc::new(decision);
                current.source = DecisionSource::FlagsService;
                current.decided_at = Some(now);
                record = Some(RemoteRecord {
                    flag: self.key.clone(),
                    enabled: !current.decision.is_off(),
                    drop: current.decision.dropped().to_vec(),
                    decided_at: now,
                });
            } else if current.last_error.is_none() || first {
                crate::warn::warn(&format!(
                    "remote kill switch: {}; using the {} decision",
                    error.as_deref().unwrap_or("no answer"),
                    match current.source {
                        DecisionSource::Default => "default (on)",
                        _ => "last known",
                    }
                ));
            }
            current.last_error = error;
        }
        if let Some(record) = record {
            self.persist(record);
        }
        let _ = self.wake_tx.try_send(());
    }

    /// Saves a decision unless the install state already holds it (so an unchanged hourly
    /// answer writes nothing).
    fn persist(&self, record: RemoteRecord) {
        let same = |r: &RemoteRecord| {
            r.flag == record.flag && r.enabled == record.enabled && r.drop == record.drop
        };
        if self.store.state().remote.as_deref().is_some_and(same) {
            return;
        }
        self.store.update(|s| s.remote = Some(Box::new(record)));
    }

    /// The switch for `Status`.
    pub(crate) fn status(&self) -> RemoteStatus {
        let pending = self.hold_until().is_some();
        let current = self.read();
        let rfc3339 = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        let state = match (pending, current.decision.is_off()) {
            (true, _) => "pending",
            (false, true) => "off",
            (false, false) => "on",
        };
        let dropped_events = current.decision.dropped().to_vec();
        let mut summary = match state {
            "pending" => format!(
                "waiting for the first answer for feature flag {:?}: events are held, at most {:?}",
                self.key, self.hold
            ),
            "off" => format!(
                "disabled remotely: PostHog feature flag {:?} is off for this install; nothing \
                 is sent",
                self.key
            ),
            _ if dropped_events.is_empty() => {
                format!("PostHog feature flag {:?} leaves telemetry on", self.key)
            }
            _ => format!(
                "PostHog feature flag {:?} leaves telemetry on but drops {}",
                self.key,
                dropped_events.join(", ")
            ),
        };
        summary.push_str(match current.source {
            DecisionSource::FlagsService => " (answered by the flags service)",
            DecisionSource::Persisted => " (the last decision, persisted in the install state)",
            DecisionSource::Default => " (no answer yet: on by default)",
        });
        RemoteStatus {
            flag: self.key.clone(),
            state,
            disabled: current.decision.is_off(),
            dropped_events,
            source: current.source,
            decided_at: rfc3339(current.decided_at),
            evaluated_at: rfc3339(current.evaluated_at),
            last_error: current.last_error.clone(),
            summary,
        }
    }
}

/// Tells the operator what the flag decided, when it changes (and at the first answer).
fn announce(key: &str, before: &Decision, after: &Decision) {
    let message = match after {
        Decision::Off => format!(
            "telemetry disabled remotely: PostHog feature flag {key:?} is off for this install; \
             nothing is sent until it is on again"
        ),
        Decision::On { drop } if drop.is_empty() => {
            if !before.is_off() && before.dropped().is_empty() {
                return;
            }
            format!("PostHog feature flag {key:?} leaves telemetry on")
        }
        Decision::On { drop } => format!(
            "PostHog feature flag {key:?} drops these events: {}",
            drop.join(", ")
        ),
    };
    crate::warn::info(&message);
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
