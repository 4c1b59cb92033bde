//! GDPR/CCPA data requests: what may be asked, and the proof an erasure leaves behind.

use super::InputError;
use super::text::bounded_text;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What the customer asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRequestKind {
    /// Remove every piece of the customer's personal data.
    Erasure,
}

impl DataRequestKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erasure => "ERASURE",
        }
    }

    /// The kind stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        (text == "ERASURE").then_some(Self::Erasure)
    }
}

/// A validated reason (trimmed; at most [`MAX_REASON_CHARS`]).
pub fn parse_reason(field: &str, reason: Option<&str>) -> Result<Option<String>, InputError> {
    bounded_text(field, reason, MAX_REASON_CHARS)
}

/// The proof an erasure keeps: HMAC-SHA256 of the lower-cased email under the server's secret,
/// in hex. Whoever holds the secret and the email can show the erasure happened; without the
/// secret the hash cannot be tried against a list of addresses.
pub fn email_proof(secret: &[u8], email: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(email.trim().to_lowercase().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proof_depends_on_the_secret_and_not_on_case() {
        let a = email_proof(b"secret one", "Ann@Example.com");
        assert_eq!(a, email_proof(b"secret one", " ann@example.com"));
        assert_ne!(a, email_proof(b"secret two", "ann@example.com"));
        assert_eq!(a.len(), 64);
        assert!(!a.contains("ann"));
    }

    #[test]
    fn reasons_are_optional_and_bounded() {
        assert_eq!(parse_reason("input.reason", Some("  asked by email ")).unwrap().as_deref(), Some("asked by email"));
        assert_eq!(parse_reason("input.reason", None).unwrap(), None);
        assert!(parse_reason("input.reason", Some(&"x".repeat(MAX_REASON_CHARS + 1))).is_err());
    }
}
