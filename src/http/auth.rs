//! Bearer-key authentication: `Authorization: Bearer wk_live_...` → what the key grants.
//!
//! Grants are cached in the process by the key's SHA-256 (the key itself is never kept), so a
//! request normally authenticates without a statement. A revocation, or a change to what a
//! store's keys grant, is announced with NOTIFY (`db::api_keys::CHANNEL`) and evicts the
//! entries it concerns on every instance at once; when the listening connection drops (and
//! notifications may have been missed) the whole cache is dropped, and every entry expires after
//! [`KeyCache::TTL`] whatever happens.

use crate::db::DbPool;
use crate::db::api_keys::{self, KeyChange, KeyGrant};
use crate::domain::api_key;
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// The key in an `Authorization` header value (`Bearer <key>`, scheme case-insensitive).
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// Grants of keys seen recently.
#[derive(Clone)]
pub struct KeyCache(Arc<Inner>);

struct Inner {
    pool: DbPool,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_hash: HashMap<[u8; 32], (KeyGrant, Instant)>,
    /// Bumped by every eviction: a lookup that started before one does not cache its result.
    generation: u64,
}

impl KeyCache {
    /// How long a grant is trusted without a notification.
    pub const TTL: Duration = Duration::from_secs(60);
    /// Most grants kept (a flood of distinct keys cannot grow it further).
    const CAPACITY: usize = 10_000;

    /// A cache that reads keys through `pool` and forgets what `changes` announce.
    pub fn start(pool: DbPool, changes: &broadcast::Sender<Option<KeyChange>>) -> Self {
        let cache = Self(Arc::new(Inner { pool, entries: Mutex::default() }));
        let mut changes = changes.subscribe();
        let weak = Arc::downgrade(&cache.0);
        tokio::spawn(async move {
            loop {
                let change = changes.recv().await;
                let Some(inner) = weak.upgrade() else { return };
                let mut entries = inner.entries.lock().expect("not poisoned");
                entries.generation += 1;
                match change {
                    Ok(Some(change)) => entries.by_hash.retain(|_, (grant, _)| !change.concerns(grant)),
                    // missed changes (a reconnect, or fallen behind): trust nothing cached
                    Ok(None) | Err(broadcast::error::RecvError::Lagged(_)) => entries.by_hash.clear(),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        cache
    }

    /// Resolves a presented key; unknown, malformed and revoked keys are all `Unauthenticated`,
    /// and a database that does not answer is `Unavailable`.
    pub async fn authenticate(&self, key: Option<&str>) -> Result<KeyGrant, AppError> {
        let key = key.filter(|k| api_key::prefix_of(k).is_some()).ok_or(AppError::Unauthenticated)?;
        let hash = api_key::hash(key);
        let generation = {
            let entries = self.0.entries.lock().expect("not poisoned");
            if let Some((grant, at)) = entries.by_hash.get(&hash)
                && at.elapsed() < Self::TTL
            {
                return Ok(grant.clone());
            }
            entries.generation
        };
        let grant = {
            let mut conn = self.0.pool.get().await?;
            api_keys::authenticate(&mut conn, key).await?.ok_or(AppError::Unauthenticated)?
        };
        let mut entries = self.0.entries.lock().expect("not poisoned");
        if entries.generation == generation {
            if entries.by_hash.len() >= Self::CAPACITY {
                entries.by_hash.retain(|_, (_, at)| at.elapsed() < Self::TTL);
                if entries.by_hash.len() >= Self::CAPACITY {
                    entries.by_hash.clear();
                }
            }
            entries.by_hash.insert(hash, (grant.clone(), Instant::now()));
        }
        Ok(grant)
    }

    /// Looks the key up again, bypassing the cache (a WebSocket that may have missed a
    /// revocation checks its key this way).
    pub async fn recheck(&self, key: &str) -> Result<KeyGrant, AppError> {
        self.0.entries.lock().expect("not poisoned").by_hash.remove(&api_key::hash(key));
        self.authenticate(Some(key)).await
    }
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn reads_bearer_headers() {
        assert_eq!(bearer("Bearer wk_live_x"), Some("wk_live_x"));
        assert_eq!(bearer("bearer  wk_live_x "), Some("wk_live_x"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("wk_live_x"), None);
    }
}
