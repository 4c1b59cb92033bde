//! Claiming jobs fairly. Within a lane the next job comes from the store the lane served least
//! recently among those with a due job (a round over the stores, kept in `job_turns`), not from
//! the oldest job of the whole queue, so one store's backlog of thousands delays nobody else's
//! work by more than a turn; and a store may have at most `per_store` jobs of the lane running
//! at once, so one store's slow webhook receiver holds at most that many workers.
//!
//! A claim is one short transaction of two indexed statements: the store's turn row is locked
//! (`FOR UPDATE SKIP LOCKED`: concurrent claimers take other stores), then, under a snapshot taken
//! after the lock — so the store's running count is exact — its oldest due job (or one whose
//! lease ran out) is leased to the worker and the store goes to the back of the round. Neither
//! statement reads more of the queue than one index probe per store with turns in the lane.

use super::jobs::ClaimedJob;
use super::prepared::Prepared;
use diesel::{OptionalExtension, QueryResult};
use diesel::sql_types::{Array, Double, Int4, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// What a worker asks for.
#[derive(Debug, Clone)]
pub struct Claim<'a> {
    /// The claiming worker (it fences the job's outcome).
    pub worker: &'a str,
    pub lane: &'a str,
    /// The kinds the worker can run: during a rolling upgrade an older worker leaves a newer
    /// kind to newer workers.
    pub kinds: &'a [&'a str],
    /// The most jobs of one store in this lane that may be running at once (every instance's).
    pub per_store: i32,
    pub lease_secs: f64,
}

/// Claims the next job of the lane fairly (see the module's notes), leasing it for
/// `lease_secs`; `None` when no store has a due job it may run now.
pub async fn claim(conn: &mut AsyncPgConnection, claim: &Claim<'_>) -> QueryResult<Option<ClaimedJob>> {
    // a store picked whose job another claimer took meanwhile: look again, a few times
    for _ in 0..3 {
        let (picked, job) = conn.transaction(async |conn| claim_once(conn, claim).await).await?;
        if job.is_some() || !picked {
            return Ok(job);
        }
    }
    Ok(None)
}

/// One claim transaction: whether a store was picked, and the job claimed from it.
async fn claim_once(conn: &mut AsyncPgConnection, claim: &Claim<'_>) -> QueryResult<(bool, Option<ClaimedJob>)> {
    let Some(store) = next_store(conn, claim).await? else { return Ok((false, None)) };
    let job = lease_next(conn, claim, store).await?;
    Prepared::<()>::default()
        .sql("UPDATE job_turns SET served_at = clock_timestamp() WHERE lane = ")
        .bind::<Text, _>(claim.lane.to_owned())
        .sql(" AND store_id = ")
        .bind::<SqlUuid, _>(store)
        .execute(conn)
        .await?;
    Ok((true, job))
}

/// Locks the turn of the store served least recently that has a due job of the kinds (or one
/// whose lease ran out) and room under its limit.
async fn next_store(conn: &mut AsyncPgConnection, claim: &Claim<'_>) -> QueryResult<Option<uuid::Uuid>> {
    let kinds: Vec<String> = claim.kinds.iter().map(|k| (*k).to_owned()).collect();
    Prepared::<SqlUuid>::default()
        .sql("SELECT t.store_id FROM job_turns t WHERE t.lane = ")
        .bind::<Text, _>(claim.lane.to_owned())
        .sql(
            " AND (EXISTS (SELECT 1 FROM jobs d WHERE d.store_id = t.store_id AND d.lane = t.lane \
                     AND d.state = 'queued' AND d.run_at <= now() AND d.kind = ANY(",
        )
        .bind::<Array<Text>, _>(kinds.clone())
        .sql(
            ")) OR EXISTS (SELECT 1 FROM jobs e WHERE e.store_id = t.store_id AND e.lane = t.lane \
                     AND e.state = 'running' AND e.locked_until < now() AND e.kind = ANY(",
        )
        .bind::<Array<Text>, _>(kinds)
        .sql(
            "))) AND (SELECT count(*) FROM jobs r WHERE r.store_id = t.store_id AND r.lane = t.lane \
                     AND r.state = 'running' AND r.locked_until >= now()) < ",
        )
        .bind::<Int4, _>(claim.per_store)
        .sql(" ORDER BY t.served_at LIMIT 1 FOR UPDATE OF t SKIP LOCKED")
        .get_result(conn)
        .await
        .optional()
}

/// Leases the store's next job of the lane to the worker while the store is under its limit:
/// one whose lease ran out (its worker died) first, else the oldest due one.
async fn lease_next(conn: &mut AsyncPgConnection, claim: &Claim<'_>, store: uuid::Uuid) -> QueryResult<Option<ClaimedJob>> {
    let kinds: Vec<String> = claim.kinds.iter().map(|k| (*k).to_owned()).collect();
    let lane = claim.lane.to_owned();
    Prepared::<(SqlUuid, SqlUuid, Text, Jsonb, Int4, Int4)>::default()
        .sql("WITH expired AS (SELECT id FROM jobs WHERE store_id = ")
        .bind::<SqlUuid, _>(store)
        .sql(" AND lane = ")
        .bind::<Text, _>(lane.clone())
        .sql(" AND state = 'running' AND locked_until < now() AND kind = ANY(")
        .bind::<Array<Text>, _>(kinds.clone())
        .sql(
            ") ORDER BY locked_until LIMIT 1 FOR UPDATE SKIP LOCKED), \
             queued AS (SELECT id FROM jobs WHERE NOT EXISTS (SELECT 1 FROM expired) AND store_id = ",
        )
        .bind::<SqlUuid, _>(store)
        .sql(" AND lane = ")
        .bind::<Text, _>(lane.clone())
        .sql(" AND state = 'queued' AND run_at <= now() AND kind = ANY(")
        .bind::<Array<Text>, _>(kinds)
        .sql(") ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, locked_by = ")
        .bind::<Text, _>(claim.worker.to_owned())
        .sql(", locked_until = now() + make_interval(secs => ")
        .bind::<Double, _>(claim.lease_secs)
        .sql(
            ") WHERE j.id IN (SELECT id FROM expired UNION ALL SELECT id FROM queued) \
               AND (SELECT count(*) FROM jobs r WHERE r.store_id = ",
        )
        .bind::<SqlUuid, _>(store)
        .sql(" AND r.lane = ")
        .bind::<Text, _>(lane)
        .sql(" AND r.state = 'running' AND r.locked_until >= now()) < ")
        .bind::<Int4, _>(claim.per_store)
        .sql(" RETURNING j.id, j.store_id, j.kind, j.payload, j.attempts, j.max_attempts")
        .get_result(conn)
        .await
        .optional()
}
