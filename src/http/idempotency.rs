//! `Idempotency-Key` on GraphQL mutations over HTTP, Stripe's rules: the first request with a key
//! runs and its response is kept for 24 hours; the same key with the same body gets that
//! response again (with `Idempotent-Replayed: true`) without running anything; the same key with
//! another body, or while the first request still runs, is a `CONFLICT` (409). Keys belong to
//! their store. A request that did not run (rate limited, database unavailable) keeps nothing,
//! so its retry runs; a query keeps nothing either.

use crate::db::DbPool;
use crate::db::idempotency::{self, Claim, Recorded};
use crate::domain::ids::{CustomerId, StoreId};
use crate::error::AppError;
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The header marking a replayed response.
pub const REPLAYED: &str = "idempotent-replayed";
/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// The request's key: `Ok(None)` without one, `Err` with why a given one is refused.
pub fn key_of(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let key = value.to_str().map_err(|_| "the Idempotency-Key header must be printable ASCII".to_owned())?.trim();
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS || key.chars().any(|c| c.is_ascii_control()) {
        return Err(format!("the Idempotency-Key header must be 1 to {MAX_KEY_CHARS} printable characters (a UUID is a good key)"));
    }
    Ok(Some(key.to_owned()))
}

/// A key claimed for one request.
pub struct Claimed {
    pool: DbPool,
    store: StoreId,
    key: String,
}

/// Claims `key` for a request with `body`: the claim, or what to answer instead.
pub async fn claim(pool: &DbPool, store: StoreId, key: String, body: &[u8], lease: std::time::Duration) -> Result<Result<Claimed, Claim>, AppError> {
    let hash: [u8; 32] = Sha256::digest(body).into();
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(1));
    let claim = idempotency::claim(&mut *pool.get().await?, store, &key, &hash, lease).await?;
    Ok(match claim {
        Claim::Claimed => Ok(Claimed { pool: pool.clone(), store, key }),
        other => Err(other),
    })
}

impl Claimed {
    /// Keeps `response` for replays; `request` is the body it answered (for the customers it
    /// names, whose erasure deletes the record).
    pub async fn record(self, response: &Recorded, request: &[u8]) {
        let customers = customers_named(&[&String::from_utf8_lossy(request), &response.body]);
        let recorded = async { anyhow::Ok(idempotency::record(&mut *self.pool.get().await?, self.store, &self.key, response, &customers).await?) };
        if let Err(err) = recorded.await {
            // (the claim's lease runs out and a retry runs the request again)
            tracing::warn!(error = format!("{err:#}"), "could not keep an idempotent response");
        }
    }

    /// Lets the key go: the request did not run.
    pub async fn release(self) {
        let released = async { anyhow::Ok(idempotency::release(&mut *self.pool.get().await?, self.store, &self.key).await?) };
        if let Err(err) = released.await {
            tracing::warn!(error = format!("{err:#}"), "could not release an idempotency key");
        }
    }
}

/// The customer ids (`cust_…`) in `texts`.
fn customers_named(texts: &[&str]) -> Vec<CustomerId> {
    let mut found: Vec<CustomerId> = texts
        .iter()
        .flat_map(|text| text.match_indices("cust_").filter_map(|(at, _)| text.get(at..at + 37)).filter_map(|id| CustomerId::parse(id).ok()))
        .collect();
    found.sort_by_key(|c| c.0);
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_and_plain() {
        let mut headers = HeaderMap::new();
        assert_eq!(key_of(&headers), Ok(None));
        headers.insert(HEADER, "order-1047-retry".parse().unwrap());
        assert_eq!(key_of(&headers), Ok(Some("order-1047-retry".into())));
        headers.insert(HEADER, "x".repeat(256).parse().unwrap());
        assert!(key_of(&headers).is_err());
        headers.insert(HEADER, "  ".parse().unwrap());
        assert!(key_of(&headers).is_err());
    }

    #[test]
    fn finds_the_customers_a_request_names() {
        let id = CustomerId(uuid::Uuid::now_v7());
        let text = format!(r#"{{"id":"{id}","other":"cust_nothex"}}"#);
        assert_eq!(customers_named(&[&text, &id.to_string()]), vec![id]);
    }
}
