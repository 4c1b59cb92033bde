//! Stores: the tenants. Created by operators from the command line, never through the API.

use super::schema::stores;
use crate::domain::ids::StoreId;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// Creates a store.
pub async fn create(conn: &mut AsyncPgConnection, name: &str, currency: &str) -> QueryResult<StoreId> {
    let id = StoreId::generate();
    diesel::insert_into(stores::table)
        .values((stores::id.eq(id.0), stores::name.eq(name), stores::currency.eq(currency)))
        .execute(conn)
        .await?;
    Ok(id)
}

/// Finds a store by name (the first one created, if several share it).
pub async fn find_by_name(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<Option<StoreId>> {
    stores::table
        .filter(stores::name.eq(name))
        .order(stores::created_at)
        .select(stores::id)
        .first(conn)
        .await
        .optional()
        .map(|id| id.map(StoreId))
}

/// Gives `store` its own rate-limit bucket (size in points, points restored per second), or the
/// server's default with `None`, and tells every instance; false when there is no such store.
pub async fn set_rate_limit(conn: &mut AsyncPgConnection, store: StoreId, bucket: Option<(i32, i32)>) -> QueryResult<bool> {
    conn.transaction(async move |conn| {
        let n = diesel::update(stores::table.find(store.0))
            .set((stores::rate_limit_bucket.eq(bucket.map(|b| b.0)), stores::rate_limit_restore.eq(bucket.map(|b| b.1))))
            .execute(&mut *conn)
            .await?;
        if n > 0 {
            super::api_keys::announce_store(conn, store).await?;
        }
        Ok(n > 0)
    })
    .await
}
