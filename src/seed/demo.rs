//! `seed --demo`: a store of the product page's own customers (`showcase`) and 300 believable customers with two years of history (orders with
//! repeat behaviour, campaign emails, page views, support chats, notes), so GraphiQL shows
//! something real. Deterministic: the same seed gives the same store.

use super::bulk::{self, Events};
use super::showcase;
use crate::db::{api_keys, stores};
use crate::domain::ids::StoreId;
use diesel_async::AsyncPgConnection;

/// How many customers the demo store gets.
pub const DEMO_CUSTOMERS: usize = 300;

/// Creates the demo store and its customers; returns the store and a new (read-write) key.
/// When a store of that name exists already, only issues a new key for it.
pub async fn load(conn: &mut AsyncPgConnection, store_name: &str) -> anyhow::Result<(StoreId, String)> {
    if let Some(store) = stores::find_by_name(conn, store_name).await? {
        eprintln!("store {store_name:?} exists already: issuing a new key for it");
        return Ok((store, api_keys::issue(conn, store, "demo", false).await?));
    }
    let store = stores::create(conn, store_name, "USD").await?;
    let key = api_keys::issue(conn, store, "demo", false).await?;
    // first, so the bulk load's enrichment and behaviour pass covers them too
    showcase::load(conn, store, chrono::Utc::now()).await?;
    bulk::load(conn, store, DEMO_CUSTOMERS, Events::Natural, 2026).await?;
    Ok((store, key))
}
