//! Stores: the tenants. Created by operators from the command line, never through the API.

use super::schema::stores;
use crate::domain::ids::StoreId;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

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
