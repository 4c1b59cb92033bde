//! Background work on durable jobs kept in PostgreSQL (`db::jobs`): enqueued in the transaction
//! of the write that causes them, claimed by any worker of any process with `FOR UPDATE SKIP
//! LOCKED` under a renewed lease, retried with exponential backoff, and taken over when their
//! worker dies. Workers run inside `serve` (`WHALE_WORKERS`) and alone as `whale-crm worker`.
//! Every job is idempotent: running one twice (a worker that died after the work but before
//! recording it) changes nothing the first run did not.

pub mod metrics;
pub mod wakeups;
pub mod worker;

use crate::db::DbPool;
use crate::db::jobs::{self, ClaimedJob};
use crate::domain::ids::{JobId, StoreId};
use rand::Rng;
use std::time::Duration;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Refit a store's metrics models (payload: none).
    MetricsRefit,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 1] = [JobKind::MetricsRefit];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MetricsRefit => "metrics.refit",
        }
    }

    /// The kind stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Attempts before the job fails for good.
    pub fn max_attempts(self) -> i32 {
        match self {
            Self::MetricsRefit => 5,
        }
    }

    /// The wait after the `attempts`-th failed attempt: doubling from the kind's first delay up
    /// to its cap, with ±20 % jitter so jobs that failed together do not retry together.
    pub fn backoff(self, attempts: i32) -> Duration {
        let (first, cap) = match self {
            Self::MetricsRefit => (Duration::from_secs(10), Duration::from_secs(3600)),
        };
        let doubled = first.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1) as u32).min(cap);
        doubled.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

/// Waits until the job has finished (succeeded, or failed for good) or `timeout` passed;
/// returns whether it finished.
pub async fn wait_until_finished(pool: &DbPool, id: JobId, timeout: Duration) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = {
            let mut conn = pool.get().await?;
            jobs::status(&mut conn, id).await?
        };
        if status.is_none_or(|s| s.state == "succeeded" || s.state == "failed") {
            return Ok(true);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Does the work of a claimed job.
pub async fn run(pool: &DbPool, kind: JobKind, job: &ClaimedJob) -> anyhow::Result<()> {
    let store = StoreId(job.store_id);
    match kind {
        JobKind::MetricsRefit => {
            let mut conn = pool.get().await?;
            metrics::refit(&mut conn, store).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(JobKind::parse("nope"), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let within = |d: Duration, secs: f64| (secs * 0.8..=secs * 1.2).contains(&d.as_secs_f64());
        let kind = JobKind::MetricsRefit;
        assert!(within(kind.backoff(1), 10.0));
        assert!(within(kind.backoff(2), 20.0));
        assert!(within(kind.backoff(4), 80.0));
        assert!(within(kind.backoff(30), 3600.0));
    }
}
