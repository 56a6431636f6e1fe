//! Salted SHA-256: the install fingerprint and pseudonymised values.
//!
//! The salt is random per install (or `TELE_SALT`) and never leaves the process, so a hash can
//! be linked to other events of the same install but not reversed or matched across installs.

use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of `salt` followed by `input`, 64 characters.
///
/// ```
/// let h = telemetry_core::__private::internals::fingerprint::salted_sha256(b"salt", b"install-id");
/// assert_eq!(h.len(), 64);
/// assert!(h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
/// assert_ne!(h, telemetry_core::__private::internals::fingerprint::salted_sha256(b"other salt", b"install-id"));
/// ```
pub fn salted_sha256(salt: &[u8], input: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(input);
    to_hex(hasher.finalize().as_slice())
}

/// The install's anonymous `distinct_id`: SHA-256 over salt and install id.
///
/// ```
/// let a = telemetry_core::__private::internals::fingerprint::distinct_id(b"s1", "id");
/// assert_eq!(a, telemetry_core::__private::internals::fingerprint::distinct_id(b"s1", "id"));
/// assert_ne!(a, telemetry_core::__private::internals::fingerprint::distinct_id(b"s2", "id"));
/// ```
pub fn distinct_id(salt: &[u8], install_id: &str) -> String {
    salted_sha256(salt, install_id.as_bytes())
}

/// Lowercase hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// The secret half of an identity: what hashes are salted with, plus the public fingerprint.
#[derive(Clone)]
pub struct Identity {
    salt: Vec<u8>,
    distinct_id: String,
}

impl Identity {
    /// Builds an identity from a salt and an install id.
    pub fn new(salt: Vec<u8>, install_id: &str) -> Identity {
        let distinct_id = distinct_id(&salt, install_id);
        Identity { salt, distinct_id }
    }

    /// The anonymous install fingerprint sent as `distinct_id`.
    pub fn distinct_id(&self) -> &str {
        &self.distinct_id
    }

    /// Hashes a value with this install's salt.
    pub fn hash(&self, input: &[u8]) -> String {
        salted_sha256(&self.salt, input)
    }
}

impl std::fmt::Debug for Identity {
    // Never print the salt.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("distinct_id", &self.distinct_id)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // sha256("abc")
        assert_eq!(
            salted_sha256(b"", b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(salted_sha256(b"a", b"bc"), salted_sha256(b"", b"abc"));
    }

    #[test]
    fn an_identity_s_fingerprint_is_64_lowercase_hex() {
        let id = Identity::new(vec![7; 32], "install-1");
        assert_eq!(id.distinct_id().len(), 64);
        assert!(
            id.distinct_id()
                .chars()
                .all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        );
        assert_ne!(
            id.distinct_id(),
            Identity::new(vec![8; 32], "install-1").distinct_id()
        );
    }

    #[test]
    fn debug_hides_the_salt() {
        let id = Identity::new(b"supersecretsalt".to_vec(), "x");
        assert!(!format!("{id:?}").contains("supersecret"));
    }
}
