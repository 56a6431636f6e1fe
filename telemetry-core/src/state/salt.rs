//! The per-install salt and the random source for ids.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fingerprint;
use crate::warn::warn;

/// The per-install secret that fingerprints and [`Hashed`](crate::Hashed) values are salted with.
///
/// 32 random bytes, stored hex-encoded. Never sent, never logged: its `Debug` output is redacted.
///
/// ```
/// use telemetry_core::__private::internals::state::Salt;
///
/// let salt = Salt::random();
/// assert_eq!(salt.as_bytes().len(), Salt::LEN);
/// assert_ne!(salt, Salt::random());
/// assert_eq!(format!("{salt:?}"), "Salt(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Salt(Vec<u8>);

impl Salt {
    /// Length in bytes of a generated salt.
    pub const LEN: usize = 32;

    /// A new random salt from the operating system's random source.
    ///
    /// ```
    /// assert_eq!(telemetry_core::__private::internals::state::Salt::random().as_bytes().len(), 32);
    /// ```
    pub fn random() -> Salt {
        Salt(random_bytes::<{ Salt::LEN }>().to_vec())
    }

    /// A salt with the given bytes (for tests, or migrating a salt from elsewhere).
    ///
    /// ```
    /// let salt = telemetry_core::__private::internals::state::Salt::from_bytes(vec![7; 32]);
    /// assert_eq!(salt.as_bytes(), &[7; 32]);
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Salt {
        Salt(bytes.into())
    }

    /// The raw salt bytes.
    ///
    /// ```
    /// let salt = telemetry_core::__private::internals::state::Salt::from_bytes(*b"abc");
    /// assert_eq!(salt.as_bytes(), b"abc");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Salt(<redacted>)")
    }
}

impl Serialize for Salt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&fingerprint::to_hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Salt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Salt, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The error never quotes the value: it is (meant to be) a secret.
        from_hex(&text)
            .filter(|bytes| !bytes.is_empty())
            .map(Salt)
            .ok_or_else(|| D::Error::custom("`salt` must be a non-empty hex string"))
    }
}

pub(super) fn from_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = text.trim().as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// Random bytes from the OS. If the OS source fails (it practically never does), a hash of
/// time, process id and a counter is used instead, with a warning: never a panic.
pub(super) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if getrandom::fill(&mut buf).is_err() {
        static WARNED: AtomicBool = AtomicBool::new(false);
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        if !WARNED.swap(true, Ordering::Relaxed) {
            warn(
                "the operating system's random source failed; using a weaker fallback for the install id and salt",
            );
        }
        let seed = format!(
            "{:?}|{}|{}|{:?}",
            std::time::SystemTime::now(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::thread::current().id(),
        );
        let mut filled = 0;
        let mut round = 0u32;
        while filled < N {
            let block = sha2_block(seed.as_bytes(), round);
            let take = (N - filled).min(block.len());
            buf[filled..filled + take].copy_from_slice(&block[..take]);
            filled += take;
            round += 1;
        }
    }
    buf
}

fn sha2_block(seed: &[u8], round: u32) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(round.to_le_bytes());
    hasher.update(seed);
    hasher.finalize().into()
}

pub(super) fn random_install_id() -> String {
    uuid::Builder::from_random_bytes(random_bytes::<16>())
        .into_uuid()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let salt = Salt::random();
        let hex = fingerprint::to_hex(salt.as_bytes());
        assert_eq!(hex.len(), 64);
        assert_eq!(from_hex(&hex).unwrap(), salt.as_bytes());
        assert_eq!(from_hex("ABcd").unwrap(), vec![0xab, 0xcd]);
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
    }

    #[test]
    fn install_id_is_a_random_uuid() {
        let id = uuid::Uuid::parse_str(&random_install_id()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_ne!(random_install_id(), random_install_id());
    }
}
