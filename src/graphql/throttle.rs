//! Cost-based rate limiting, Shopify's model: every key has a leaky bucket of points (by default
//! 1,000, refilling at 100 a second; a store may have its own). An operation's requested cost is
//! taken from the bucket before it runs — refused with `RATE_LIMITED` when the bucket holds too
//! little — and what it was charged beyond its actual cost is given back after it ran.
//!
//! Buckets live in PostgreSQL (`db::rate_limits`), so a key has one bucket however many server
//! instances it talks to, and taking points is one statement under the bucket row's lock.
//! Refunds are gathered for a tenth of a second and given back in one statement per batch.
//!
//! A key asking for little next to its bucket (each operation at most a twentieth of it) does
//! not pay a statement per request: an instance takes a tenth of the bucket ahead with the
//! points an operation needs, and spends it on the key's next operations for up to a second;
//! what is left then goes back with the refunds. So an instance holds at most a tenth of a
//! key's bucket, for at most a second, and only operations far smaller than the bucket are
//! counted this way — near an empty bucket every operation is taken exactly, in PostgreSQL.

use crate::config::LimitsConfig;
use crate::db::DbPool;
use crate::db::api_keys::KeyGrant;
use crate::db::gate::Lease;
use crate::db::rate_limits::{self, Bucket, Refund};
use crate::domain::ids::{ApiKeyId, StoreId};
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often gathered refunds are given back.
const REFUND_EVERY: Duration = Duration::from_millis(100);
/// How long points taken ahead stay this instance's before they are given back.
const HOLD: Duration = Duration::from_secs(1);
/// Points taken ahead, as a share of the bucket.
const AHEAD: f64 = 0.1;
/// Operations costing more than this share of the bucket are always taken exactly.
const SMALL: f64 = 0.05;

/// Where a key's bucket stands after an operation took its points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    pub bucket: Bucket,
    /// What the bucket holds now (refunds included).
    pub available: f64,
}

/// The limiter: the server's default bucket and the refunds waiting to be given back.
#[derive(Clone)]
pub struct Throttle {
    default: Bucket,
    pending: Arc<Mutex<HashMap<(StoreId, ApiKeyId), Refund>>>,
    held: Arc<Mutex<HashMap<(StoreId, ApiKeyId), Held>>>,
}

/// Points an instance took ahead for a key.
#[derive(Debug, Clone, Copy)]
struct Held {
    bucket: Bucket,
    points: f64,
    /// What the bucket held in PostgreSQL once they were taken.
    level: f64,
    since: Instant,
}

impl Throttle {
    /// A limiter whose refunds a background task gives back through `pool` (until the process
    /// ends).
    pub fn start(limits: &LimitsConfig, pool: DbPool) -> Self {
        let throttle = Self::new(limits);
        let (pending, held) = (throttle.pending.clone(), throttle.held.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REFUND_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let expired: Vec<((StoreId, ApiKeyId), Held)> = {
                    let mut held = held.lock().expect("not poisoned");
                    let keys: Vec<_> = held.iter().filter(|(_, h)| h.since.elapsed() >= HOLD).map(|(k, _)| *k).collect();
                    keys.into_iter().filter_map(|k| Some((k, held.remove(&k)?))).collect()
                };
                for (key, held) in expired {
                    give_back(&pending, key, held.bucket, held.points);
                }
                let batch: Vec<Refund> = std::mem::take(&mut *pending.lock().expect("not poisoned")).into_values().collect();
                if batch.is_empty() {
                    continue;
                }
                let given = async { anyhow::Ok(rate_limits::refund(&mut *pool.get().await?, &batch).await?) };
                if let Err(err) = given.await {
                    // (lost refunds only leave buckets emptier than they should be, briefly)
                    tracing::warn!(error = format!("{err:#}"), refunds = batch.len(), "could not give rate-limit refunds back");
                }
            }
        });
        throttle
    }

    fn new(limits: &LimitsConfig) -> Self {
        Self {
            default: Bucket { size: limits.bucket_size as f64, restore: limits.bucket_restore as f64 },
            pending: Arc::default(),
            held: Arc::default(),
        }
    }

    /// The bucket of the key `grant` describes: its store's own, or the server's default.
    pub fn bucket(&self, grant: &KeyGrant) -> Bucket {
        match grant.rate_limit {
            Some((size, restore)) => Bucket { size: f64::from(size), restore: f64::from(restore) },
            None => self.default,
        }
    }

    /// Takes `cost` points from the key's bucket: the bucket's status when they were taken, or
    /// `Err` with it (and the points still missing) when it holds too few.
    pub async fn take(&self, lease: &Lease, grant: &KeyGrant, cost: u64) -> Result<Result<Status, Throttled>, AppError> {
        let (bucket, cost, key) = (self.bucket(grant), cost as f64, (grant.store_id, grant.key_id));
        if let Some(available) = self.spend_held(key, bucket, cost) {
            return Ok(Ok(Status { bucket, available: available + self.pending_for(grant) }));
        }
        let ahead = if cost <= bucket.size * SMALL { (bucket.size * AHEAD).floor() } else { 0.0 };
        let mut conn = lease.conn().await?;
        let mut taken = rate_limits::take(&mut conn, grant.store_id, grant.key_id, bucket, cost + ahead).await?;
        let mut held = 0.0;
        if taken.granted && ahead > 0.0 {
            held = ahead;
            self.held.lock().expect("not poisoned").insert(key, Held { bucket, points: ahead, level: taken.available, since: Instant::now() });
        } else if ahead > 0.0 {
            taken = rate_limits::take(&mut conn, grant.store_id, grant.key_id, bucket, cost).await?;
        }
        let status = Status { bucket, available: taken.available + held + self.pending_for(grant) };
        Ok(if taken.granted { Ok(status) } else { Err(Throttled { status, missing: cost - status.available }) })
    }

    /// Spends `cost` from what this instance holds of the key's bucket, if it holds enough:
    /// what the bucket holds then. What it held, when too little, goes back with the refunds.
    fn spend_held(&self, key: (StoreId, ApiKeyId), bucket: Bucket, cost: f64) -> Option<f64> {
        let mut held = self.held.lock().expect("not poisoned");
        let entry = held.get_mut(&key)?;
        if entry.bucket == bucket && entry.points >= cost && entry.since.elapsed() < HOLD {
            entry.points -= cost;
            return Some(entry.level + entry.points);
        }
        let left = held.remove(&key)?;
        drop(held);
        give_back(&self.pending, key, left.bucket, left.points);
        None
    }

    /// Gives `points` back to the key's bucket (soon); returns its status with them.
    pub fn refund(&self, grant: &KeyGrant, status: Status, points: u64) -> Status {
        if points == 0 {
            return status;
        }
        give_back(&self.pending, (grant.store_id, grant.key_id), status.bucket, points as f64);
        Status { available: (status.available + points as f64).min(status.bucket.size), ..status }
    }

    fn pending_for(&self, grant: &KeyGrant) -> f64 {
        self.pending.lock().expect("not poisoned").get(&(grant.store_id, grant.key_id)).map_or(0.0, |r| r.points)
    }
}

/// Adds `points` to what goes back to the key's bucket with the next batch of refunds.
fn give_back(pending: &Mutex<HashMap<(StoreId, ApiKeyId), Refund>>, (store, key): (StoreId, ApiKeyId), bucket: Bucket, points: f64) {
    if points <= 0.0 {
        return;
    }
    let mut pending = pending.lock().expect("not poisoned");
    let refund = pending.entry((store, key)).or_insert(Refund { store, key, points: 0.0, size: bucket.size });
    refund.points += points;
}

/// A bucket that holds too few points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    pub status: Status,
    /// Points the operation needs beyond what the bucket holds.
    pub missing: f64,
}

impl Throttled {
    /// Whole seconds until the bucket holds enough (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        (self.missing / self.status.bucket.restore).ceil().max(1.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_the_time_to_refill_what_is_missing() {
        let status = Status { bucket: Bucket { size: 1000.0, restore: 100.0 }, available: 40.0 };
        assert_eq!(Throttled { status, missing: 250.0 }.retry_after_secs(), 3);
        assert_eq!(Throttled { status, missing: 0.5 }.retry_after_secs(), 1);
    }
}
