//! The deadpool pool of async PostgreSQL connections, with explicit wait/create/recycle timeouts.
//! Each connection counts its statements (`statements`); recycling checks only for a leftover
//! transaction, so checking a connection out costs no round trip.

use super::statements::StatementCounter;
use crate::config::DatabaseConfig;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use futures_util::FutureExt;
use std::time::Duration;

/// The application's pool.
pub type DbPool = Pool<AsyncPgConnection>;
/// A connection checked out of the pool.
pub type DbConn = Object<AsyncPgConnection>;

/// Builds the pool (connections are opened lazily).
pub fn connect_pool(config: &DatabaseConfig) -> anyhow::Result<DbPool> {
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    manager_config.custom_setup = Box::new(|url| {
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.set_instrumentation(StatementCounter);
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(&config.url, manager_config);
    let timeout = Some(Duration::from_secs(config.connect_timeout_secs));
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .wait_timeout(timeout)
        .create_timeout(timeout)
        .recycle_timeout(timeout)
        .runtime(deadpool::Runtime::Tokio1)
        .build()?)
}
