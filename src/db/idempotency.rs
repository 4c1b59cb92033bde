//! Idempotency keys: the first request with a key claims it (in flight, under a lease), records
//! its response when done; later requests with the key get that response (same body) or a
//! conflict (another body, or the first still running). Records last 24 hours.

use super::schema::idempotency_keys;
use crate::domain::ids::{CustomerId, StoreId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// How long a record is kept (and a key cannot be used for another request).
pub const KEEP_HOURS: i64 = 24;

/// A response as it was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is this request's now: run it, then record or release.
    Claimed,
    /// The key's request already ran with this body: its response.
    Replay(Recorded),
    /// The key was used with another body.
    Mismatch,
    /// The key's first request is still running.
    InFlight,
}

type Row = (Vec<u8>, String, Option<DateTime<Utc>>, Option<i16>, Option<String>, Option<String>, DateTime<Utc>);

/// Claims `key` for a request whose body hashes to `hash`, for `lease` (after which a request
/// that died is taken over).
pub async fn claim(conn: &mut AsyncPgConnection, store: StoreId, key: &str, hash: &[u8; 32], lease: chrono::Duration) -> QueryResult<Claim> {
    let now = Utc::now();
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::store_id.eq(store.0),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(hash.as_slice()),
            idempotency_keys::locked_until.eq(Some(now + lease)),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    let row: Option<Row> = idempotency_keys::table
        .find((store.0, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::state,
            idempotency_keys::locked_until,
            idempotency_keys::status,
            idempotency_keys::content_type,
            idempotency_keys::response,
            idempotency_keys::created_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((stored_hash, state, locked_until, status, content_type, response, created_at)) = row else {
        // (deleted meanwhile: released or pruned)
        return Box::pin(claim(conn, store, key, hash, lease)).await;
    };
    let expired = created_at < now - chrono::Duration::hours(KEEP_HOURS);
    let abandoned = state == "in_flight" && locked_until.is_none_or(|t| t < now);
    if expired || abandoned {
        // take it over, unless someone else just did
        let taken = diesel::update(idempotency_keys::table.find((store.0, key)))
            .filter(idempotency_keys::created_at.eq(created_at))
            .filter(idempotency_keys::state.eq(&state))
            .set((
                idempotency_keys::request_hash.eq(hash.as_slice()),
                idempotency_keys::state.eq("in_flight"),
                idempotency_keys::locked_until.eq(Some(now + lease)),
                idempotency_keys::status.eq(None::<i16>),
                idempotency_keys::content_type.eq(None::<String>),
                idempotency_keys::response.eq(None::<String>),
                idempotency_keys::customer_ids.eq(Vec::<uuid::Uuid>::new()),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(conn)
            .await?;
        return Ok(if taken == 1 { Claim::Claimed } else { Claim::InFlight });
    }
    if stored_hash != hash {
        return Ok(Claim::Mismatch);
    }
    Ok(match (state.as_str(), status, response) {
        ("done", Some(status), Some(body)) => Claim::Replay(Recorded { status: status as u16, content_type: content_type.unwrap_or_default(), body }),
        _ => Claim::InFlight,
    })
}

/// Records the response of the request that claimed `key`.
pub async fn record(conn: &mut AsyncPgConnection, store: StoreId, key: &str, response: &Recorded, customers: &[CustomerId]) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((store.0, key)))
        .filter(idempotency_keys::state.eq("in_flight"))
        .set((
            idempotency_keys::state.eq("done"),
            idempotency_keys::locked_until.eq(None::<DateTime<Utc>>),
            idempotency_keys::status.eq(Some(response.status as i16)),
            idempotency_keys::content_type.eq(Some(&response.content_type)),
            idempotency_keys::response.eq(Some(&response.body)),
            idempotency_keys::customer_ids.eq(customers.iter().map(|c| c.0).collect::<Vec<_>>()),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Lets go of `key` without recording (the request did not run: a retry may run it).
pub async fn release(conn: &mut AsyncPgConnection, store: StoreId, key: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((store.0, key))).filter(idempotency_keys::state.eq("in_flight")).execute(conn).await?;
    Ok(())
}

/// Deletes the records about `customer` (an erasure): those naming them, and those whose
/// response holds their email.
pub async fn delete_for_customer(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId, email: Option<&str>) -> QueryResult<usize> {
    let named = diesel::delete(idempotency_keys::table.filter(idempotency_keys::store_id.eq(store.0)))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("").bind::<diesel::sql_types::Uuid, _>(customer.0).sql(" = ANY(customer_ids)"))
        .execute(&mut *conn)
        .await?;
    let Some(email) = email else { return Ok(named) };
    let holding = diesel::delete(idempotency_keys::table.filter(idempotency_keys::store_id.eq(store.0)))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("strpos(lower(coalesce(response, '')), lower(")
                .bind::<diesel::sql_types::Text, _>(email.to_owned())
                .sql(")) > 0"),
        )
        .execute(conn)
        .await?;
    Ok(named + holding)
}

/// Deletes records older than [`KEEP_HOURS`]; returns how many.
pub async fn prune(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(Utc::now() - chrono::Duration::hours(KEEP_HOURS))))
        .execute(conn)
        .await
}
