//! The deadpool pool of async PostgreSQL connections, with explicit wait/create/recycle timeouts.

use crate::config::DatabaseConfig;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use std::time::Duration;

/// The application's pool.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = Object<AsyncPgConnection>;

/// Builds the pool (connections are opened lazily).
pub fn connect_pool(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(&config.url);
    let timeout = Some(Duration::from_secs(config.connect_timeout_secs));
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}
