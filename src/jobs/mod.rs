//! Background work on durable jobs kept in PostgreSQL (`db::jobs`): enqueued in the transaction
//! of the write that causes them, claimed by any worker of any process with `FOR UPDATE SKIP
//! LOCKED` under a renewed lease, retried with exponential backoff, and taken over when their
//! worker dies. Workers run inside `serve` (`WHALE_WORKERS`) and alone as `whale-crm worker`.
//! Work is fair: each kind belongs to a lane ([`JobKind::lane`]), lanes are served in the order
//! of [`LANES`] with a worker kept free of the later ones (`worker`), and within a lane stores
//! take turns under a limit of running jobs per store (`db::job_claims`).
//! Every job is idempotent: running one twice (a worker that died after the work but before
//! recording it) changes nothing the first run did not.

pub mod data_requests;
pub mod metrics;
pub mod webhooks;
pub mod worker;

use crate::db::gate::Lease;
use crate::db::{self, DbPool};
use crate::error::AppError;
use crate::db::jobs::{self, ClaimedJob, lanes};
use crate::domain::data_request::DownloadLinks;
use crate::domain::ids::{DataRequestId, JobId, StoreId, WebhookDeliveryId};
use rand::Rng;
use std::time::Duration;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Refit a store's metrics models (payload: none).
    MetricsRefit,
    /// Carry out an erasure request (payload: `{"request": "dreq_..."}`).
    DataRequestErasure,
    /// Build an export request's archive (payload: `{"request": "dreq_..."}`).
    DataRequestExport,
    /// Delete an export archive at its expiry (payload: `{"request": "dreq_..."}`).
    DataExportExpire,
    /// Send a webhook delivery (payload: `{"delivery": "whdel_..."}`).
    WebhookDeliver,
    /// Recompute the store's stale behaviour facts (payload: none).
    EnrichmentBehaviour,
}

/// What jobs run with.
#[derive(Clone)]
pub struct JobContext {
    pub pool: DbPool,
    /// For the download links in `data_request.completed` deliveries.
    pub links: DownloadLinks,
    pub webhooks: webhooks::Sender,
}

/// The lanes, in the order workers serve them: data requests (erasures have a legal deadline)
/// before maintenance, both before webhook deliveries, which may each wait seconds on a receiver.
pub const LANES: [&str; 3] = [lanes::DATA_REQUESTS, lanes::MAINTENANCE, lanes::WEBHOOKS];

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 6] = [
        JobKind::MetricsRefit,
        JobKind::DataRequestErasure,
        JobKind::DataRequestExport,
        JobKind::DataExportExpire,
        JobKind::WebhookDeliver,
        JobKind::EnrichmentBehaviour,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MetricsRefit => "metrics.refit",
            Self::DataRequestErasure => "data_request.erasure",
            Self::DataRequestExport => "data_request.export",
            Self::DataExportExpire => "data_export.expire",
            Self::WebhookDeliver => db::webhooks::DELIVER_JOB,
            Self::EnrichmentBehaviour => db::enrichment::BEHAVIOUR_JOB,
        }
    }

    /// The lane its jobs are claimed in.
    pub fn lane(self) -> &'static str {
        match self {
            Self::DataRequestErasure | Self::DataRequestExport | Self::DataExportExpire => lanes::DATA_REQUESTS,
            Self::MetricsRefit | Self::EnrichmentBehaviour => lanes::MAINTENANCE,
            Self::WebhookDeliver => lanes::WEBHOOKS,
        }
    }

    /// The kinds claimed in `lane`.
    pub fn in_lane(lane: &str) -> Vec<&'static str> {
        Self::ALL.into_iter().filter(|k| k.lane() == lane).map(Self::as_str).collect()
    }

    /// The kind stored as `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Attempts before the job fails for good.
    pub fn max_attempts(self) -> i32 {
        match self {
            Self::MetricsRefit | Self::EnrichmentBehaviour => 5,
            Self::DataRequestErasure | Self::DataRequestExport | Self::DataExportExpire => 10,
            Self::WebhookDeliver => db::webhooks::DELIVER_ATTEMPTS,
        }
    }

    /// The wait after the `attempts`-th failed attempt: doubling from the kind's first delay
    /// (for webhooks, `webhook_first_retry`) up to its cap, with ±20 % jitter so jobs that failed
    /// together do not retry together.
    pub fn backoff(self, attempts: i32, webhook_first_retry: Duration) -> Duration {
        let (first, cap) = match self {
            Self::MetricsRefit | Self::EnrichmentBehaviour => (Duration::from_secs(10), Duration::from_secs(3600)),
            Self::DataRequestErasure | Self::DataRequestExport | Self::DataExportExpire => (Duration::from_secs(5), Duration::from_secs(3600)),
            Self::WebhookDeliver => (webhook_first_retry, Duration::from_secs(4 * 3600)),
        };
        let doubled = first.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1) as u32).min(cap);
        doubled.mul_f64(rand::rng().random_range(0.8..1.2))
    }
}

/// Waits until the job has finished (succeeded, or failed for good) or `timeout` passed;
/// returns whether it finished.
pub async fn wait_until_finished(lease: &Lease, id: JobId, timeout: Duration) -> Result<bool, AppError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let status = {
            let mut conn = lease.conn().await?;
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
pub async fn run(context: &JobContext, kind: JobKind, job: &ClaimedJob) -> anyhow::Result<()> {
    let pool = &context.pool;
    let store = StoreId(job.store_id);
    match kind {
        JobKind::MetricsRefit => {
            let mut conn = pool.get().await?;
            metrics::refit(&mut conn, store).await?;
            Ok(())
        }
        JobKind::DataRequestErasure => {
            let request = data_request_of(job)?;
            let mut conn = pool.get().await?;
            db::data_requests::start(&mut conn, store, request).await?;
            db::data_requests::erase(&mut conn, store, request).await?;
            Ok(())
        }
        JobKind::DataRequestExport => {
            let request = data_request_of(job)?;
            let mut conn = pool.get().await?;
            db::data_requests::start(&mut conn, store, request).await?;
            data_requests::export(&mut conn, store, request).await
        }
        JobKind::DataExportExpire => data_requests::expire(&mut *pool.get().await?, store, data_request_of(job)?).await,
        JobKind::WebhookDeliver => webhooks::deliver(context, store, delivery_of(job)?).await,
        JobKind::EnrichmentBehaviour => {
            let mut conn = pool.get().await?;
            while db::enrichment::refresh_behaviour(&mut conn, store).await? > 0 {}
            // rows a writer held are stale still: their writer queued a job, unless it rolled
            // back; look again shortly either way
            if db::enrichment::behaviour_stale(&mut conn, store).await? {
                db::enrichment::queue_behaviour_at(&mut conn, store, Some(chrono::Utc::now() + chrono::Duration::seconds(5))).await?;
            }
            Ok(())
        }
    }
}

/// After a job's last attempt failed: what it was for is marked failed.
pub async fn give_up(pool: &DbPool, kind: JobKind, job: &ClaimedJob) -> anyhow::Result<()> {
    match kind {
        JobKind::MetricsRefit | JobKind::DataExportExpire | JobKind::EnrichmentBehaviour => Ok(()),
        JobKind::WebhookDeliver => {
            let mut conn = pool.get().await?;
            Ok(db::webhooks::give_up(&mut conn, StoreId(job.store_id), delivery_of(job)?).await?)
        }
        JobKind::DataRequestErasure | JobKind::DataRequestExport => {
            let mut conn = pool.get().await?;
            Ok(db::data_requests::fail(&mut conn, StoreId(job.store_id), data_request_of(job)?).await?)
        }
    }
}

fn delivery_of(job: &ClaimedJob) -> anyhow::Result<WebhookDeliveryId> {
    let id = job.payload.get("delivery").and_then(|v| v.as_str()).ok_or_else(|| anyhow::anyhow!("job payload names no delivery"))?;
    WebhookDeliveryId::parse(id).map_err(|_| anyhow::anyhow!("job payload names a malformed delivery id"))
}

fn data_request_of(job: &ClaimedJob) -> anyhow::Result<DataRequestId> {
    let id = job.payload.get("request").and_then(|v| v.as_str()).ok_or_else(|| anyhow::anyhow!("job payload names no request"))?;
    DataRequestId::parse(id).map_err(|_| anyhow::anyhow!("job payload names a malformed request id"))
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
    fn data_requests_are_served_first_and_webhooks_last() {
        assert_eq!(JobKind::in_lane(LANES[0]), ["data_request.erasure", "data_request.export", "data_export.expire"]);
        assert_eq!(JobKind::in_lane(LANES[2]), ["webhook.deliver"]);
        assert!(JobKind::ALL.iter().all(|k| LANES.contains(&k.lane())), "every kind is served");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter() {
        let within = |d: Duration, secs: f64| (secs * 0.8..=secs * 1.2).contains(&d.as_secs_f64());
        let kind = JobKind::MetricsRefit;
        let webhook_first = Duration::from_secs(60);
        assert!(within(kind.backoff(1, webhook_first), 10.0));
        assert!(within(kind.backoff(2, webhook_first), 20.0));
        assert!(within(kind.backoff(4, webhook_first), 80.0));
        assert!(within(kind.backoff(30, webhook_first), 3600.0));
    }

    #[test]
    fn webhook_retries_span_about_a_day() {
        let first = Duration::from_secs(60);
        let kind = JobKind::WebhookDeliver;
        assert!((0.8 * 60.0..=1.2 * 60.0).contains(&kind.backoff(1, first).as_secs_f64()));
        // the nominal waits between the attempts (the jitter averages out)
        let total: u64 = (1..kind.max_attempts()).map(|n| (60u64 << (n - 1).min(20)).min(4 * 3600)).sum();
        assert!((22 * 3600..=26 * 3600).contains(&total), "{total} s");
    }
}
