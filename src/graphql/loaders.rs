//! DataLoaders for nested fields. Created per request (no cache is shared across stores or
//! requests) and scoped to the request's store, so a page of customers costs one statement per
//! nested field, not one per customer.

use crate::db::addresses::{self, AddressRow};
use crate::db::DbPool;
use crate::domain::ids::{CustomerId, StoreId};
use async_graphql::dataloader::{DataLoader, Loader};
use std::collections::HashMap;
use std::sync::Arc;

/// Loader errors are shared between the fields waiting on one batch.
pub type LoadError = Arc<anyhow::Error>;

/// A customer's addresses.
pub struct AddressLoader {
    pool: DbPool,
    store: StoreId,
}

impl Loader<CustomerId> for AddressLoader {
    type Value = Vec<AddressRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[CustomerId]) -> Result<HashMap<CustomerId, Self::Value>, Self::Error> {
        let mut conn = self.pool.get().await.map_err(|e| Arc::new(anyhow::anyhow!("database pool: {e}")))?;
        addresses::for_customers(&mut conn, self.store, keys).await.map_err(|e| Arc::new(e.into()))
    }
}

/// Every loader of one request.
pub struct Loaders {
    pub addresses: DataLoader<AddressLoader>,
}

impl Loaders {
    /// Fresh loaders for a request acting for `store`.
    pub fn new(pool: &DbPool, store: StoreId) -> Self {
        Self { addresses: DataLoader::new(AddressLoader { pool: pool.clone(), store }, tokio::spawn) }
    }
}
