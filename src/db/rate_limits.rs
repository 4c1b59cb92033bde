//! Rate-limit buckets, one per key, in PostgreSQL so every instance counts against the same
//! bucket (an UNLOGGED table: no WAL on the hot path; after a crash every bucket starts full).

use super::prepared::Prepared;
use crate::domain::ids::{ApiKeyId, StoreId};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Double, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A bucket's size and how fast it refills.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// The most points it holds (and the costliest request it can ever let through).
    pub size: f64,
    /// Points restored per second.
    pub restore: f64,
}

/// What taking points from a bucket found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taken {
    /// Points left (after taking them, when `granted`).
    pub available: f64,
    pub granted: bool,
}

/// Takes `cost` points from the key's bucket if it holds that many.
pub async fn take(conn: &mut AsyncPgConnection, store: StoreId, key: ApiKeyId, bucket: Bucket, cost: f64) -> QueryResult<Taken> {
    let (available, granted): (f64, bool) = Prepared::<(Double, Bool)>::default()
        .sql("SELECT available, granted FROM rate_limit_take(")
        .bind::<SqlUuid, _>(store.0)
        .sql(", ")
        .bind::<SqlUuid, _>(key.0)
        .sql(", ")
        .bind::<Double, _>(bucket.size)
        .sql(", ")
        .bind::<Double, _>(bucket.restore)
        .sql(", ")
        .bind::<Double, _>(cost)
        .sql(")")
        .get_result(conn)
        .await?;
    Ok(Taken { available, granted })
}

/// One key's points to give back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refund {
    pub store: StoreId,
    pub key: ApiKeyId,
    pub points: f64,
    pub size: f64,
}

/// Gives points back to many buckets in one statement.
pub async fn refund(conn: &mut AsyncPgConnection, refunds: &[Refund]) -> QueryResult<()> {
    if refunds.is_empty() {
        return Ok(());
    }
    Prepared::<()>::default()
        .sql("SELECT rate_limit_refund(")
        .bind::<Array<SqlUuid>, _>(refunds.iter().map(|r| r.store.0).collect::<Vec<_>>())
        .sql(", ")
        .bind::<Array<SqlUuid>, _>(refunds.iter().map(|r| r.key.0).collect::<Vec<_>>())
        .sql(", ")
        .bind::<Array<Double>, _>(refunds.iter().map(|r| r.points).collect::<Vec<_>>())
        .sql(", ")
        .bind::<Array<Double>, _>(refunds.iter().map(|r| r.size).collect::<Vec<_>>())
        .sql(")")
        .execute(conn)
        .await?;
    Ok(())
}
