//! The application state shared by every handler, and the configuration it is built from.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use telemetry_core::Telemetry;

use crate::auth::{PasswordCost, SessionStore};
use crate::db::{Database, Db};
use crate::error::AppError;
use crate::login_throttle::LoginThrottle;
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
    /// The app is served over HTTPS (usually by a TLS-terminating reverse proxy): cookies get
    /// `Secure`. `TIMETRACKER_BEHIND_TLS=1`.
    pub secure_cookies: bool,
    /// The app is only reachable through a reverse proxy that appends the client's address to
    /// `X-Forwarded-For`: the login rate limit uses that address instead of the proxy's.
    /// `TIMETRACKER_TRUST_PROXY=1`.
    pub trust_proxy: bool,
}

impl Config {
    /// A configuration with the recommended password cost, plain-HTTP cookies and no proxy.
    pub fn new(database: Database, telemetry: Telemetry) -> Config {
        Config {
            database,
            telemetry,
            password_cost: PasswordCost::Recommended,
            secure_cookies: false,
            trust_proxy: false,
        }
    }

    /// Reads `TIMETRACKER_BEHIND_TLS` and `TIMETRACKER_TRUST_PROXY` (`1`/`true`/`yes` or
    /// `0`/`false`/`no`); an unrecognised value logs a warning and keeps the setting off.
    pub fn with_deployment_from_env(mut self) -> Config {
        self.secure_cookies = env_flag("TIMETRACKER_BEHIND_TLS");
        self.trust_proxy = env_flag("TIMETRACKER_TRUST_PROXY");
        self
    }
}

/// A yes/no environment variable; unset, empty or unrecognised is no.
fn env_flag(name: &str) -> bool {
    let Ok(value) = std::env::var(name) else {
        return false;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => true,
        "" | "0" | "false" | "no" | "off" => false,
        other => {
            tracing::warn!(
                variable = name,
                value = other,
                "not a yes/no value; treated as no"
            );
            false
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
    /// Failed-login records for the rate limit.
    pub login_throttle: LoginThrottle,
    /// Whether cookies get `Secure` (see [`Config::secure_cookies`]).
    pub secure_cookies: bool,
    /// Whether the client address comes from `X-Forwarded-For` (see [`Config::trust_proxy`]).
    pub trust_proxy: bool,
    password_checks: AtomicU64,
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
            login_throttle: LoginThrottle::default(),
            secure_cookies: config.secure_cookies,
            trust_proxy: config.trust_proxy,
            password_checks: AtomicU64::new(0),
            setup_complete: AtomicBool::new(complete),
        })))
    }

    /// Whether the first-run setup has been completed (read from the app database at start,
    /// updated by the setup page; never derived from the telemetry state).
    pub fn setup_complete(&self) -> bool {
        self.0.setup_complete.load(Ordering::Acquire)
    }

    /// Checks a password against a PHC hash with Argon2 (CPU-heavy: call on the blocking
    /// pool), counting the check.
    pub fn verify_password(&self, password: &str, phc: &str) -> bool {
        self.0.password_checks.fetch_add(1, Ordering::Relaxed);
        crate::passwords::verify_password(password, phc)
    }

    /// How many Argon2 password checks this instance has run (every login attempt that reaches
    /// the check runs exactly one, whatever its outcome).
    pub fn password_checks(&self) -> u64 {
        self.0.password_checks.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_setup_complete(&self) {
        self.0.setup_complete.store(true, Ordering::Release);
    }
}
