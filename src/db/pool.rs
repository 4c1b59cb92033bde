//! The deadpool pool of async PostgreSQL connections, with explicit wait/create/recycle timeouts.
//! Each connection counts its statements (`statements`) and has a `statement_timeout`, so no
//! statement holds a connection for long; recycling checks only that the connection is still
//! open and has no leftover transaction, so checking one out costs no round trip.

use super::statements::StatementCounter;
use crate::config::DatabaseConfig;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
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
    // (a transaction left idle is ended at twice the statement timeout; the application name
    // tells this process's connections apart in pg_stat_activity)
    let settings = format!(
        "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = {}; SET application_name = 'whale-crm:{}'",
        config.statement_timeout_secs.max(1) * 1000,
        config.statement_timeout_secs.max(1) * 2000,
        std::process::id()
    );
    manager_config.custom_setup = Box::new(move |url| {
        let settings = settings.clone();
        async move {
            let mut conn = AsyncPgConnection::establish(url).await?;
            conn.batch_execute(&settings).await.map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
            // (counting starts after the setup, which belongs to no request)
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
