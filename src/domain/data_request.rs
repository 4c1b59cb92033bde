//! GDPR/CCPA data requests: what may be asked, and the proof an erasure leaves behind.

use super::InputError;
use super::text::bounded_text;
use super::signing::mac;
use chrono::{DateTime, Duration, Utc};
use hmac::Mac;
use std::sync::Arc;

/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What the customer asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRequestKind {
    /// Remove every piece of the customer's personal data.
    Erasure,
    /// An archive of everything held on the customer.
    Export,
}

/// How an export archive is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON document.
    Json,
    /// A zip of CSV files, one per section (`domain::export_csv`).
    Csv,
}

impl ExportFormat {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Csv => "CSV",
        }
    }

    /// The format stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::Json, Self::Csv].into_iter().find(|f| f.as_str() == text)
    }
}

/// How long an export archive is kept (and its links can work).
pub const EXPORT_RETENTION_DAYS: i64 = 7;

/// How long one download link works (each read of `downloadUrl` makes a fresh one).
pub const DOWNLOAD_LINK_SECS: i64 = 3600;

/// Where download links point and how they are signed.
#[derive(Clone)]
pub struct DownloadLinks {
    /// The server's public base URL, e.g. `https://crm.example.com`.
    pub base_url: String,
    /// The server's secret.
    pub secret: Arc<[u8]>,
}

impl DownloadLinks {
    /// A link to the request's archive, working until `expires`.
    pub fn link(&self, request: &str, expires: DateTime<Utc>) -> String {
        let expires = expires.timestamp();
        let signature = download_signature(&self.secret, request, expires);
        format!("{}/downloads/{request}?expires={expires}&signature={signature}", self.base_url.trim_end_matches('/'))
    }

    /// The link to an export completed at `completed`, as handed out at `now`: valid for
    /// [`DOWNLOAD_LINK_SECS`] and never past the archive's expiry (none once it has expired).
    pub fn for_export(&self, request: &str, completed: DateTime<Utc>, now: DateTime<Utc>) -> Option<String> {
        let archive_expires = completed + Duration::days(EXPORT_RETENTION_DAYS);
        (now < archive_expires).then(|| self.link(request, archive_expires.min(now + Duration::seconds(DOWNLOAD_LINK_SECS))))
    }
}

/// The signature of a download link: HMAC-SHA256 over `"<request id>.<expiry, unix seconds>"`
/// under the server's secret, in hex.
pub fn download_signature(secret: &[u8], request: &str, expires: i64) -> String {
    hex::encode(mac(secret, format!("{request}.{expires}").as_bytes()).finalize().into_bytes())
}

/// Whether `signature` (hex) signs the request and expiry, compared in constant time.
pub fn download_signature_valid(secret: &[u8], request: &str, expires: i64, signature: &str) -> bool {
    let Ok(signature) = hex::decode(signature) else { return false };
    mac(secret, format!("{request}.{expires}").as_bytes()).verify_slice(&signature).is_ok()
}

impl DataRequestKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erasure => "ERASURE",
            Self::Export => "EXPORT",
        }
    }

    /// The kind stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        [Self::Erasure, Self::Export].into_iter().find(|k| k.as_str() == text)
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
    hex::encode(mac(secret, email.trim().to_lowercase().as_bytes()).finalize().into_bytes())
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
    fn download_signatures_cover_the_request_and_the_expiry() {
        let signature = download_signature(b"k", "dreq_1", 100);
        assert!(download_signature_valid(b"k", "dreq_1", 100, &signature));
        assert!(!download_signature_valid(b"k", "dreq_2", 100, &signature));
        assert!(!download_signature_valid(b"k", "dreq_1", 101, &signature));
        assert!(!download_signature_valid(b"other", "dreq_1", 100, &signature));
        assert!(!download_signature_valid(b"k", "dreq_1", 100, "zz"));
    }

    #[test]
    fn reasons_are_optional_and_bounded() {
        assert_eq!(parse_reason("input.reason", Some("  asked by email ")).unwrap().as_deref(), Some("asked by email"));
        assert_eq!(parse_reason("input.reason", None).unwrap(), None);
        assert!(parse_reason("input.reason", Some(&"x".repeat(MAX_REASON_CHARS + 1))).is_err());
    }
}
