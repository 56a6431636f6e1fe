//! Password hashing (Argon2id) and checking, on tokio's blocking pool.

use std::sync::OnceLock;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::error::AppError;

/// How expensive password hashing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCost {
    /// Argon2id with the OWASP-recommended parameters (19 MiB, 2 passes).
    Recommended,
    /// Argon2id with the smallest parameters: only for tests, where speed matters.
    Minimal,
}

impl PasswordCost {
    fn hasher(self) -> Argon2<'static> {
        match self {
            PasswordCost::Recommended => Argon2::default(),
            PasswordCost::Minimal => Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(Params::MIN_M_COST, 1, 1, None).unwrap_or(Params::DEFAULT),
            ),
        }
    }
}

/// Hashes a password into a PHC string (random salt). CPU-heavy: call on the blocking pool.
pub fn hash_password(cost: PasswordCost, password: &str) -> Result<String, AppError> {
    cost.hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// Checks a password against a PHC string (its own parameters apply). CPU-heavy.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// [`hash_password`] on the blocking pool, outside the database lock.
pub async fn hash_password_async(cost: PasswordCost, password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_password(cost, &password)).await?
}

/// A hash of nothing in particular, checked when the username does not exist so that a refusal
/// takes as long either way and does not reveal which usernames exist.
pub(crate) fn decoy_hash(cost: PasswordCost) -> &'static str {
    static RECOMMENDED: OnceLock<String> = OnceLock::new();
    static MINIMAL: OnceLock<String> = OnceLock::new();
    let cell = match cost {
        PasswordCost::Recommended => &RECOMMENDED,
        PasswordCost::Minimal => &MINIMAL,
    };
    cell.get_or_init(|| hash_password(cost, "decoy password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password(PasswordCost::Minimal, "correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("x", "not a hash"));
        // The decoy is a real hash with the same parameters, so checking it costs the same.
        let decoy = decoy_hash(PasswordCost::Minimal);
        assert!(decoy.starts_with("$argon2id$"));
        assert_eq!(
            decoy.split('$').nth(3),
            hash.split('$').nth(3),
            "same parameters"
        );
    }
}
