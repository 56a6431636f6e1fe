//! Deterministic uuids for lifecycle pings, so that PostHog recognises the same ping sent by
//! several replicas of one install.
//!
//! Replicas that share an identity (`TELEMETRY_INSTALL_ID` with `TELE_SALT`) but not a state
//! volume each decide on their own that `telemetry.install` is due. Each ping's uuid is derived
//! from the install fingerprint, the event, the version (and, for `telemetry.health`, the UTC
//! day), so the copies carry one uuid and PostHog keeps one of them. PostHog deduplicates on the
//! uuid together with the event, the `distinct_id` and the day of the timestamp, so copies
//! sent on different days stay separate events (one install ping per day at most, in practice
//! the first start of each replica).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::schedule::Ping;

/// The uuid a lifecycle ping is sent with: a version-8 (custom) uuid from SHA-256 over the
/// install fingerprint, the event name, the version (old and new for an update), and the UTC
/// day for `telemetry.health`. Equal inputs give equal uuids in every process.
///
/// ```
/// use chrono::Utc;
/// use telemetry_core::__private::internals::lifecycle::ping_uuid;
/// use telemetry_core::__private::internals::lifecycle::Ping;
///
/// let fp = "a".repeat(64);
/// let now = Utc::now();
/// assert_eq!(ping_uuid(&fp, &Ping::Install, "1.0.0", now), ping_uuid(&fp, &Ping::Install, "1.0.0", now));
/// assert_ne!(ping_uuid(&fp, &Ping::Install, "1.0.0", now), ping_uuid(&fp, &Ping::Health, "1.0.0", now));
/// assert_eq!(ping_uuid(&fp, &Ping::Health, "1.0.0", now).get_version_num(), 8);
/// ```
pub fn ping_uuid(fingerprint: &str, ping: &Ping, version: &str, now: DateTime<Utc>) -> uuid::Uuid {
    let mut hasher = Sha256::new();
    // Length-prefixed fields: no two different inputs hash the same bytes.
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    field(b"telemetry-core lifecycle ping v1");
    field(fingerprint.as_bytes());
    field(ping.event_name().as_bytes());
    match ping {
        Ping::Install => field(version.as_bytes()),
        Ping::Update {
            old_version,
            new_version,
        } => {
            field(old_version.as_bytes());
            field(new_version.as_bytes());
        }
        Ping::Health => {
            field(version.as_bytes());
            field(now.format("%Y-%m-%d").to_string().as_bytes());
        }
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_uuid_changes_with_the_day_and_update_with_both_versions() {
        let fp = "f".repeat(64);
        let day1 = DateTime::parse_from_rfc3339("2026-05-01T00:00:01Z")
            .unwrap()
            .to_utc();
        let later = DateTime::parse_from_rfc3339("2026-05-01T23:59:59Z")
            .unwrap()
            .to_utc();
        let day2 = DateTime::parse_from_rfc3339("2026-05-02T00:00:01Z")
            .unwrap()
            .to_utc();
        let h = |t| ping_uuid(&fp, &Ping::Health, "1", t);
        assert_eq!(h(day1), h(later));
        assert_ne!(h(day1), h(day2));
        // The install ping does not depend on the day (replicas may start hours apart).
        assert_eq!(
            ping_uuid(&fp, &Ping::Install, "1", day1),
            ping_uuid(&fp, &Ping::Install, "1", day2)
        );
        let up = |old: &str, new: &str| {
            let ping = Ping::Update {
                old_version: old.into(),
                new_version: new.into(),
            };
            ping_uuid(&fp, &ping, new, day1)
        };
        assert_ne!(up("1", "2"), up("0", "2"));
        assert_ne!(
            ping_uuid(&fp, &Ping::Install, "1", day1),
            ping_uuid(&"e".repeat(64), &Ping::Install, "1", day1)
        );
    }
}
