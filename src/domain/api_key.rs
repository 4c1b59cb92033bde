//! API keys: `wk_live_` followed by 40 random alphanumerics. The first 12 random characters are
//! the key's public prefix (used to find its row); only a SHA-256 of the whole key is stored.

use rand::distr::{Alphanumeric, SampleString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every key starts with.
pub const KEY_SCHEME: &str = "wk_live_";
const SECRET_CHARS: usize = 40;
const PREFIX_CHARS: usize = 12;

/// A freshly made key: the secret to show once, and what is stored.
pub struct NewApiKey {
    /// The full key, shown to the operator once and never again.
    pub secret: String,
    /// The lookup prefix.
    pub prefix: String,
    /// SHA-256 of `secret`.
    pub hash: [u8; 32],
}

impl NewApiKey {
    /// Makes a key from the operating system's random source.
    pub fn generate() -> Self {
        let random = Alphanumeric.sample_string(&mut rand::rng(), SECRET_CHARS);
        let secret = format!("{KEY_SCHEME}{random}");
        Self { prefix: random[..PREFIX_CHARS].to_owned(), hash: hash(&secret), secret }
    }
}

/// The prefix a presented key would be stored under, if it is shaped like one of ours.
pub fn prefix_of(presented: &str) -> Option<&str> {
    let random = presented.strip_prefix(KEY_SCHEME)?;
    (random.len() == SECRET_CHARS && random.bytes().all(|b| b.is_ascii_alphanumeric())).then(|| &random[..PREFIX_CHARS])
}

/// SHA-256 of a key. Keys carry 238 bits of randomness, so a fast hash is the right one.
pub fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Compares a presented key with a stored hash in constant time.
pub fn matches(presented: &str, stored_hash: &[u8]) -> bool {
    hash(presented).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_verify_and_expose_their_prefix() {
        let key = NewApiKey::generate();
        assert!(key.secret.starts_with("wk_live_"));
        assert_eq!(prefix_of(&key.secret), Some(key.prefix.as_str()));
        assert!(matches(&key.secret, &key.hash));
        assert!(!matches(&format!("{}x", key.secret), &key.hash));
        assert_ne!(NewApiKey::generate().secret, key.secret);
    }

    #[test]
    fn refuses_keys_of_other_shapes() {
        assert_eq!(prefix_of("sk_live_abc"), None);
        assert_eq!(prefix_of("wk_live_short"), None);
        assert_eq!(prefix_of(&format!("wk_live_{}", "é".repeat(20))), None);
    }
}
