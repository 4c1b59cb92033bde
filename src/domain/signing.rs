//! HMAC-SHA256, the one keyed hash behind download links, erasure proofs and webhook signatures.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of `message` under `secret`.
pub fn mac(secret: &[u8], message: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}
