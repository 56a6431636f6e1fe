//! Login rate limiting: per account and per client, with exponential backoff.
//!
//! Each account (by username, whether it exists or not) and each client (by IP address) may fail
//! a few times freely; after that every further failure locks it out for twice as long as the
//! one before (1 s, 2 s, 4 s, ... up to 15 minutes). A locked-out attempt is refused before the
//! password is looked at. A successful login clears its account's record; a record with no
//! failure for an hour is forgotten. Memory is bounded: at most [`MAX_RECORDS`] of each kind.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use timetracker::login_throttle::LoginThrottle;
//!
//! let throttle = LoginThrottle::default();
//! let now = Instant::now();
//! for _ in 0..5 {
//!     assert!(throttle.check("alice", "192.0.2.1", now).is_ok());
//!     throttle.failed("alice", "192.0.2.1", now);
//! }
//! throttle.failed("alice", "192.0.2.1", now);
//! assert_eq!(throttle.check("alice", "192.0.2.7", now), Err(Duration::from_secs(1)));
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::state::AppState;

/// At most this many accounts and this many clients are remembered.
pub const MAX_RECORDS: usize = 10_000;
/// A record without a failure for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// How many failures are free and how the lockout grows after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before the first lockout.
    pub free_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub base_delay: Duration,
    /// The longest lockout.
    pub max_delay: Duration,
}

impl Policy {
    /// Per account: 5 free failures, then 1 s doubling up to 15 minutes.
    pub const ACCOUNT: Policy = Policy {
        free_failures: 5,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
    };
    /// Per client: 20 free failures (several people may share an address), then the same
    /// backoff.
    pub const CLIENT: Policy = Policy {
        free_failures: 20,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
    };

    /// The lockout after the `failures`-th failure (none while failures are free).
    pub fn lockout(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?.checked_sub(1)?;
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        Some(
            self.base_delay
                .checked_mul(factor)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug)]
struct Table {
    policy: Policy,
    records: Mutex<HashMap<String, Record>>,
}

impl Table {
    fn new(policy: Policy) -> Table {
        Table {
            policy,
            records: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let records = self.lock();
        let until = records.get(key)?.blocked_until?;
        let left = until.checked_duration_since(now)?;
        (!left.is_zero()).then_some(left)
    }

    fn failed(&self, key: &str, now: Instant) {
        let mut records = self.lock();
        if !records.contains_key(key) && records.len() >= MAX_RECORDS {
            records.retain(|_, r| now.saturating_duration_since(r.last_failure) < FORGET_AFTER);
            if records.len() >= MAX_RECORDS
                && let Some(oldest) = records
                    .iter()
                    .min_by_key(|(_, r)| r.last_failure)
                    .map(|(k, _)| k.clone())
            {
                records.remove(&oldest);
            }
        }
        let record = records.entry(key.to_owned()).or_insert(Record {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(record.last_failure) >= FORGET_AFTER {
            record.failures = 0;
        }
        record.failures = record.failures.saturating_add(1);
        record.last_failure = now;
        record.blocked_until = self.policy.lockout(record.failures).map(|d| now + d);
    }

    fn clear(&self, key: &str) {
        self.lock().remove(key);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The failed-login records of one app instance.
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Table,
    clients: Table,
}

impl Default for LoginThrottle {
    fn default() -> LoginThrottle {
        LoginThrottle::new(Policy::ACCOUNT, Policy::CLIENT)
    }
}

impl LoginThrottle {
    /// A throttle with these policies.
    pub fn new(account: Policy, client: Policy) -> LoginThrottle {
        LoginThrottle {
            accounts: Table::new(account),
            clients: Table::new(client),
        }
    }

    /// `Err(wait)` when the account or the client is locked out at `now`.
    pub fn check(&self, account: &str, client: &str, now: Instant) -> Result<(), Duration> {
        let account = self.accounts.wait(&account_key(account), now);
        let client = self.clients.wait(client, now);
        match account.max(client) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Records a failed attempt for both.
    pub fn failed(&self, account: &str, client: &str, now: Instant) {
        self.accounts.failed(&account_key(account), now);
        self.clients.failed(client, now);
    }

    /// Clears the account's record after a successful login (the client's stays: one good
    /// password must not reset a client that is guessing others).
    pub fn succeeded(&self, account: &str) {
        self.accounts.clear(&account_key(account));
    }

    /// How many accounts and clients have records.
    pub fn records(&self) -> (usize, usize) {
        (self.accounts.len(), self.clients.len())
    }
}

/// Usernames compare case-insensitively (the column is `COLLATE NOCASE`), so do their records.
fn account_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// Who is logging in, as far as the rate limit is concerned: the peer's IP address, or with
/// `Config::trust_proxy` the address the reverse proxy appended to `X-Forwarded-For`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.trust_proxy
            && let Some(forwarded) = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .rfind(|v| !v.is_empty())
        {
            return Ok(ClientAddr(forwarded.to_owned()));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(ClientAddr(peer.unwrap_or_else(|| "unknown".to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockouts_double_after_the_free_failures_up_to_the_cap() {
        let policy = Policy::ACCOUNT;
        let secs = |n| policy.lockout(n).map(|d| d.as_secs());
        assert_eq!((1..=5).map(secs).collect::<Vec<_>>(), vec![None; 5]);
        assert_eq!(secs(6), Some(1));
        assert_eq!(secs(7), Some(2));
        assert_eq!(secs(8), Some(4));
        assert_eq!(secs(15), Some(512));
        assert_eq!(secs(16), Some(900));
        assert_eq!(secs(u32::MAX), Some(900));
    }

    #[test]
    fn account_and_client_are_limited_separately() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..6 {
            throttle.failed("Alice", "10.0.0.1", t0);
        }
        // The account is locked from any address, in any spelling.
        assert_eq!(
            throttle.check(" alice", "10.0.0.2", t0),
            Err(Duration::from_secs(1))
        );
        // Another account from the same client is not (6 < 20 client failures).
        assert!(throttle.check("bob", "10.0.0.1", t0).is_ok());
        // Waiting out the lockout allows one more try; its failure locks for twice as long.
        let t1 = t0 + Duration::from_secs(1);
        assert!(throttle.check("alice", "10.0.0.1", t1).is_ok());
        throttle.failed("alice", "10.0.0.1", t1);
        assert_eq!(
            throttle.check("alice", "10.0.0.1", t1),
            Err(Duration::from_secs(2))
        );
        throttle.succeeded("ALICE");
        assert!(throttle.check("alice", "10.0.0.1", t1).is_ok());

        // 21 failures from one client over many accounts lock that client out.
        for n in 0..14 {
            throttle.failed(&format!("user{n}"), "10.0.0.1", t1);
        }
        assert_eq!(
            throttle.check("carol", "10.0.0.1", t1),
            Err(Duration::from_secs(1))
        );
        assert!(throttle.check("carol", "10.0.0.9", t1).is_ok());
    }

    #[test]
    fn old_failures_are_forgotten_and_memory_is_bounded() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..5 {
            throttle.failed("dave", "c", t0);
        }
        let later = t0 + FORGET_AFTER;
        throttle.failed("dave", "c", later);
        assert!(throttle.check("dave", "c", later).is_ok(), "counted afresh");

        for n in 0..(MAX_RECORDS + 5) {
            throttle.failed(&format!("u{n}"), "c", t0);
        }
        let (accounts, clients) = throttle.records();
        assert!(accounts <= MAX_RECORDS, "{accounts}");
        assert_eq!(clients, 1);
    }
}
