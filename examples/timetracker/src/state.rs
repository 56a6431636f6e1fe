//! The application state shared by every handler, and the configuration it is built from.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use telemetry_core::Telemetry;

use crate::auth::{PasswordCost, SessionStore};
use crate::db::{Database, Db};
use crate::error::AppError;
use crate::metrics::Metrics;

/// What [`AppState::new`] needs.
#[derive(Clone)]
pub struct Config {
    /// Where the SQLite database lives.
    pub database: Database,
    /// The installed telemetry handle (see `telemetry_setup`).
    pub telemetry: Telemetry,
    /// How expensive password hashing is; keep the default outside tests.
    pub password_cost: PasswordCost,
}

impl Config {
    /// A configuration with the recommended password cost.
    pub fn new(database: Database, telemetry: Telemetry) -> Config {
        Config {
            database,
            telemetry,
            password_cost: PasswordCost::Recommended,
        }
    }
}

/// A cheap, cloneable handle to everything the handlers share.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The shared parts, reached through [`AppState`]'s `Deref`.
pub struct Inner {
    /// The database.
    pub db: Db,
    /// The telemetry handle: status, consent.
    pub telemetry: Telemetry,
    /// Logged-in and anonymous sessions.
    pub sessions: SessionStore,
    /// The Prometheus registry and request metrics.
    pub metrics: Metrics,
    /// How passwords are hashed.
    pub password_cost: PasswordCost,
    setup_complete: AtomicBool,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the database and builds the state.
    pub fn new(config: Config) -> Result<AppState, AppError> {
        let db = Db::open(&config.database)?;
        let complete = db.call_blocking(|conn| crate::setup::is_complete(conn))?;
        Ok(AppState(Arc::new(Inner {
            db,
            metrics: Metrics::new(config.telemetry.clone()),
            telemetry: config.telemetry,
            sessions: SessionStore::default(),
            password_cost: config.password_cost,
            setup_complete: AtomicBool::new(complete),
        })))
    }

    /// Whether the first-run setup has been completed (read from the app database at start,
    /// updated by the setup page; never derived from the telemetry state).
    pub fn setup_complete(&self) -> bool {
        self.0.setup_complete.load(Ordering::Acquire)
    }

    pub(crate) fn mark_setup_complete(&self) {
        self.0.setup_complete.store(true, Ordering::Release);
    }
}
