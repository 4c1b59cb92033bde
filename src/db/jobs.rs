//! The jobs table: enqueue (deduplicated, announced with NOTIFY on commit, in a lane), renew
//! the lease of a claimed job (claims are `job_claims`'), and finish — every finishing write
//! fenced by the claiming worker's id, so a worker that lost its lease cannot overwrite another's
//! outcome.

use super::prepared::Prepared;
use crate::domain::ids::{JobId, StoreId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Double, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The channel workers LISTEN on; the payload is the job's kind.
pub const CHANNEL: &str = "whale_jobs";

/// Lanes: kinds of work claimed apart, so that one never waits behind the other's queue
/// (`jobs::JobKind::lane` says which kind goes where; workers serve them in this order).
pub mod lanes {
    /// Erasures and exports (a legal deadline) and export expiry.
    pub const DATA_REQUESTS: &str = "data_requests";
    /// Metrics refits and behaviour enrichment.
    pub const MAINTENANCE: &str = "maintenance";
    /// Webhook deliveries, which may wait seconds on a receiver.
    pub const WEBHOOKS: &str = "webhooks";
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub store: StoreId,
    pub kind: &'static str,
    /// The lane it is claimed in (one of [`lanes`]; tests of the raw queue use lanes of their own).
    pub lane: &'static str,
    pub payload: serde_json::Value,
    /// At most one queued job per store, kind and key: enqueuing another returns the queued one.
    pub dedupe_key: Option<String>,
    pub max_attempts: i32,
    /// Not before this time (now when absent).
    pub run_at: Option<DateTime<Utc>>,
}

/// A claimed job.
#[derive(Queryable, Debug, Clone)]
pub struct ClaimedJob {
    pub id: uuid::Uuid,
    pub store_id: uuid::Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    /// This claim included.
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Where a job stands.
#[derive(Queryable, Debug, Clone, PartialEq)]
pub struct JobStatus {
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub run_at: DateTime<Utc>,
}

/// Enqueues `job` (in the caller's transaction, if any: the job exists, and workers hear of it,
/// only if that transaction commits), giving its store a turn in its lane if it has none yet.
/// Returns the new job's id, or the already queued one's.
pub async fn enqueue(conn: &mut AsyncPgConnection, job: &NewJob) -> QueryResult<JobId> {
    // A concurrent enqueue of the same key may commit between our insert and our look-up, or a
    // worker may claim the queued job in between: a few rounds settle it.
    for _ in 0..3 {
        let inserted: Option<uuid::Uuid> = Prepared::<SqlUuid>::default()
            .sql("WITH turn AS (INSERT INTO job_turns (lane, store_id) VALUES (")
            .bind::<Text, _>(job.lane)
            .sql(", ")
            .bind::<SqlUuid, _>(job.store.0)
            .sql(") ON CONFLICT DO NOTHING) INSERT INTO jobs (id, store_id, kind, lane, payload, dedupe_key, max_attempts, run_at) VALUES (")
            .bind::<SqlUuid, _>(JobId::generate().0)
            .sql(", ")
            .bind::<SqlUuid, _>(job.store.0)
            .sql(", ")
            .bind::<Text, _>(job.kind)
            .sql(", ")
            .bind::<Text, _>(job.lane)
            .sql(", ")
            .bind::<Jsonb, _>(job.payload.clone())
            .sql(", ")
            .bind::<Nullable<Text>, _>(job.dedupe_key.clone())
            .sql(", ")
            .bind::<Int4, _>(job.max_attempts)
            .sql(", coalesce(")
            .bind::<Nullable<Timestamptz>, _>(job.run_at)
            .sql(
                ", now())) ON CONFLICT (store_id, kind, dedupe_key) WHERE state = 'queued' AND dedupe_key IS NOT NULL \
                 DO NOTHING RETURNING id",
            )
            .get_result(conn)
            .await
            .optional()?;
        if let Some(id) = inserted {
            diesel::select(diesel::dsl::sql::<Text>("pg_notify(").bind::<Text, _>(CHANNEL).sql(", ").bind::<Text, _>(job.kind).sql(")::text"))
                .execute(conn)
                .await?;
            return Ok(JobId(id));
        }
        use super::schema::jobs;
        let queued: Option<uuid::Uuid> = jobs::table
            .filter(jobs::store_id.eq(job.store.0).and(jobs::kind.eq(job.kind)).and(jobs::state.eq("queued")))
            .filter(jobs::dedupe_key.eq(job.dedupe_key.as_deref()))
            .select(jobs::id)
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = queued {
            return Ok(JobId(id));
        }
    }
    Err(diesel::result::Error::QueryBuilderError("could not enqueue a deduplicated job".into()))
}

/// Runs an `UPDATE jobs SET ...` (given without its WHERE) on one job only while `worker`
/// holds it; false (nothing written) when it no longer does.
async fn fenced(conn: &mut AsyncPgConnection, update: Prepared<()>, id: JobId, worker: &str) -> QueryResult<bool> {
    let n = update
        .sql(" WHERE id = ")
        .bind::<SqlUuid, _>(id.0)
        .sql(" AND state = 'running' AND locked_by = ")
        .bind::<Text, _>(worker.to_owned())
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Extends `worker`'s lease on a job; false when the lease is no longer its own.
pub async fn renew(conn: &mut AsyncPgConnection, id: JobId, worker: &str, lease_secs: f64) -> QueryResult<bool> {
    let update = Prepared::default().sql("UPDATE jobs SET locked_until = now() + make_interval(secs => ").bind::<Double, _>(lease_secs).sql(")");
    fenced(conn, update, id, worker).await
}

/// Marks a job done; false (nothing written) when `worker` no longer holds it.
pub async fn succeed(conn: &mut AsyncPgConnection, id: JobId, worker: &str) -> QueryResult<bool> {
    let update = Prepared::default().sql("UPDATE jobs SET state = 'succeeded', finished_at = now(), locked_by = NULL, locked_until = NULL, last_error = NULL");
    fenced(conn, update, id, worker).await
}

/// Records a failed attempt: queued again at `retry_at`, or failed for good when `None`.
pub async fn fail(conn: &mut AsyncPgConnection, id: JobId, worker: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> QueryResult<bool> {
    let update = match retry_at {
        Some(at) => Prepared::default().sql("UPDATE jobs SET state = 'queued', run_at = ").bind::<Timestamptz, _>(at),
        None => Prepared::default().sql("UPDATE jobs SET state = 'failed', finished_at = now()"),
    };
    let update = update.sql(", locked_by = NULL, locked_until = NULL, last_error = ").bind::<Text, _>(error.to_owned());
    fenced(conn, update, id, worker).await
}

/// A job's state.
pub async fn status(conn: &mut AsyncPgConnection, id: JobId) -> QueryResult<Option<JobStatus>> {
    use super::schema::jobs;
    jobs::table
        .find(id.0)
        .select((jobs::state, jobs::attempts, jobs::last_error, jobs::run_at))
        .first(conn)
        .await
        .optional()
}

/// Whether the store has a queued or running job of `kind`.
pub async fn pending(conn: &mut AsyncPgConnection, store: StoreId, kind: &str) -> QueryResult<bool> {
    use super::schema::jobs;
    diesel::select(diesel::dsl::exists(
        jobs::table.filter(jobs::store_id.eq(store.0).and(jobs::kind.eq(kind)).and(jobs::state.eq_any(["queued", "running"]))),
    ))
    .get_result(conn)
    .await
}

/// Deletes jobs finished more than `days` ago; returns how many.
pub async fn prune(conn: &mut AsyncPgConnection, days: i32) -> QueryResult<usize> {
    Prepared::<()>::default()
        .sql("DELETE FROM jobs WHERE state IN ('succeeded', 'failed') AND finished_at < now() - make_interval(days => ")
        .bind::<Int4, _>(days)
        .sql(")")
        .execute(conn)
        .await
}
