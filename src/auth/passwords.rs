//! Password and client-secret hashing with Argon2id, and random secrets.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand_core::{OsRng, RngCore};

pub const MIN_PASSWORD_LENGTH: usize = 12;

/// Argon2id with the crate's defaults (19 MiB, 2 passes), OWASP's recommended minimum.
pub fn hash(secret: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(secret.as_bytes(), &salt).expect("Argon2 hashes any input").to_string()
}

/// Whether `secret` matches `stored`; a malformed stored hash never matches.
pub fn verify(secret: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
}

/// Spends the same time as a real check when the username is unknown, so the answer's timing
/// does not tell whether the user exists.
pub fn verify_against_nothing(secret: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("no user has this password"));
    let _ = verify(secret, dummy);
}

/// A random secret of `bytes` bytes, hex-encoded.
pub fn random_secret(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let first = hash("Beskæftigelse2017!");
        let second = hash("Beskæftigelse2017!");
        assert_ne!(first, second);
        assert!(first.starts_with("$argon2id$"));
        assert!(verify("Beskæftigelse2017!", &first));
        assert!(!verify("beskæftigelse2017!", &first));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn random_secrets_are_hex_and_distinct() {
        let a = random_secret(32);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_secret(32));
    }
}
