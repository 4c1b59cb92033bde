//! Fair use of the pool. Every connection a request uses comes through its [`Lease`]: a request
//! holds at most a few pooled connections at once (its aliases and concurrent fields queue
//! inside it), a store at most a share of the pool (one store's burst leaves room for the
//! others), and a request waits for the pool at most a fixed time in all — not that time for
//! each field. (Only one request's own fields wait for the pool at a time, at most
//! `per_request` of them, so the waits they add up bound the time the request waited.) When the wait runs out or the database cannot be reached, the caller gets
//! [`Unavailable`], which the API reports as `UNAVAILABLE` (HTTP 503) rather than an internal
//! error.

use super::pool::{DbConn, DbPool};
use crate::domain::ids::StoreId;
use diesel_async::AsyncPgConnection;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How the pool is shared.
#[derive(Debug, Clone, Copy)]
pub struct Shares {
    /// Connections one request may hold at once.
    pub per_request: usize,
    /// Connections one store's requests may hold at once, together.
    pub per_store: usize,
    /// How long one request may wait for connections, in all.
    pub wait: Duration,
}

/// The database could not give a connection in time, or cannot be reached.
#[derive(Debug, Clone, thiserror::Error)]
#[error("database unavailable: {0}")]
pub struct Unavailable(pub &'static str);

impl Unavailable {
    pub const EXHAUSTED: Self = Self("every connection it may use was busy for too long");
    pub const UNREACHABLE: Self = Self("the database does not answer");
}

/// The pool with its shares: one per process.
#[derive(Clone)]
pub struct Gate(Arc<GateInner>);

struct GateInner {
    pool: DbPool,
    shares: Shares,
    stores: Mutex<HashMap<StoreId, Weak<Semaphore>>>,
}

impl Gate {
    pub fn new(pool: DbPool, shares: Shares) -> Self {
        let shares = Shares { per_request: shares.per_request.max(1), per_store: shares.per_store.max(1), wait: shares.wait };
        Self(Arc::new(GateInner { pool, shares, stores: Mutex::new(HashMap::new()) }))
    }

    /// A lease for one request acting for `store`.
    pub fn lease(&self, store: StoreId) -> Lease {
        let store_share = {
            let mut stores = self.0.stores.lock().expect("not poisoned");
            if stores.len() > 1024 {
                stores.retain(|_, share| share.strong_count() > 0);
            }
            match stores.get(&store).and_then(Weak::upgrade) {
                Some(share) => share,
                None => {
                    let share = Arc::new(Semaphore::new(self.0.shares.per_store));
                    stores.insert(store, Arc::downgrade(&share));
                    share
                }
            }
        };
        Lease(Arc::new(LeaseInner {
            pool: self.0.pool.clone(),
            request: Arc::new(Semaphore::new(self.0.shares.per_request)),
            store: store_share,
            waited: Mutex::new(Duration::ZERO),
            wait: self.0.shares.wait,
        }))
    }

    /// The pool itself, for work outside requests (jobs, health checks).
    pub fn pool(&self) -> &DbPool {
        &self.0.pool
    }
}

/// One request's access to the pool (cheap to clone: its loaders share it).
#[derive(Clone)]
pub struct Lease(Arc<LeaseInner>);

struct LeaseInner {
    pool: DbPool,
    request: Arc<Semaphore>,
    store: Arc<Semaphore>,
    /// What the request has waited so far.
    waited: Mutex<Duration>,
    wait: Duration,
}

impl Lease {
    /// A connection, once the request and its store are under their shares and the pool has
    /// one; [`Unavailable`] when the request's waiting time runs out or the database is away.
    pub async fn conn(&self) -> Result<GatedConn, Unavailable> {
        // Queueing behind the request's own connections is its own work (the request timeout
        // bounds it); what counts against the wait is waiting for the store's share and the pool.
        let request = self.0.request.clone().acquire_owned().await.expect("never closed");
        let started = Instant::now();
        let remaining = self.0.wait.saturating_sub(*self.0.waited.lock().expect("not poisoned"));
        let acquired = tokio::time::timeout(remaining, async {
            let store = self.0.store.clone().acquire_owned().await.expect("never closed");
            (store, self.0.pool.get().await)
        })
        .await;
        *self.0.waited.lock().expect("not poisoned") += started.elapsed();
        match acquired {
            Ok((store, Ok(conn))) => Ok(GatedConn { conn, _request: request, _store: store }),
            Ok((_, Err(deadpool::managed::PoolError::Timeout(_)))) | Err(_) => Err(Unavailable::EXHAUSTED),
            Ok((_, Err(_))) => Err(Unavailable::UNREACHABLE),
        }
    }
}

/// A pooled connection and the shares it takes; both are given back when it is dropped.
pub struct GatedConn {
    conn: DbConn,
    _request: OwnedSemaphorePermit,
    _store: OwnedSemaphorePermit,
}

impl std::ops::Deref for GatedConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &Self::Target {
        &self.conn
    }
}

impl std::ops::DerefMut for GatedConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.conn
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(per_request: usize, per_store: usize, wait_ms: u64) -> Gate {
        // A pool that is never used: the tests below never get past the shares.
        let config = crate::config::DatabaseConfig {
            url: "postgres://nobody@127.0.0.1:1/none".into(),
            pool_size: 4,
            connect_timeout_secs: 1,
            statement_timeout_secs: 1,
            shares: Shares { per_request, per_store, wait: Duration::from_millis(wait_ms) },
        };
        Gate::new(super::super::connect_pool(&config).unwrap(), config.shares)
    }

    #[tokio::test]
    async fn an_unreachable_database_is_unavailable_not_internal() {
        let lease = gate(2, 2, 2_000).lease(StoreId(uuid::Uuid::nil()));
        assert!(matches!(lease.conn().await, Err(Unavailable(_))));
    }

    #[tokio::test]
    async fn a_request_waits_once_in_all() {
        let gate = gate(1, 1, 300);
        let store = StoreId(uuid::Uuid::nil());
        let lease = gate.lease(store);
        // another request of the store holds the store's only share
        let held = gate.0.stores.lock().unwrap().get(&store).and_then(Weak::upgrade).unwrap().acquire_owned().await.unwrap();
        let started = Instant::now();
        for _ in 0..5 {
            assert!(lease.conn().await.is_err());
        }
        // five waits, but one budget
        assert!(started.elapsed() < Duration::from_millis(1_500), "{:?}", started.elapsed());
        drop(held);
    }
}
