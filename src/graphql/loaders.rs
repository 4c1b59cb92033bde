//! DataLoaders for nested fields. Created per request (no cache is shared across stores or
//! requests) and scoped to the request's store, so a page of customers costs one statement per
//! nested field (per distinct set of field arguments), not one per customer. Over HTTP, batches
//! run on the request's own task (`batches`); over WebSocket, on spawned tasks.

use crate::db::activity::{self, EventRow, TimelineQuery};
use crate::db::addresses::{self, AddressRow};
use crate::db::enrichment::{self, EnrichmentRow};
use crate::db::metrics::{self, StoreMetricsState};
use crate::db::notes::{self, NoteRow};
use crate::db::segments::{self, SegmentRow};
use crate::db::gate::{GatedConn, Lease, Unavailable};
use super::batches::Batches;
use futures_util::future::BoxFuture;
use crate::domain::ids::{CustomerId, StoreId};
use crate::error::{AppError, Fault, database_fault};
use async_graphql::Context;
use async_graphql::dataloader::{DataLoader, Loader};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// A failed batch, shared by every field that waited on it.
#[derive(Clone, Debug)]
pub struct LoadError(Arc<anyhow::Error>);

impl<E: Into<anyhow::Error>> From<E> for LoadError {
    fn from(err: E) -> Self {
        Self(Arc::new(err.into()))
    }
}

impl From<LoadError> for AppError {
    fn from(err: LoadError) -> Self {
        if err.0.downcast_ref::<Unavailable>().is_some() {
            return AppError::Unavailable;
        }
        match err.0.downcast_ref::<diesel::result::Error>().and_then(database_fault) {
            Some(Fault::Away) => AppError::Unavailable,
            Some(Fault::TooSlow) => AppError::QueryTooComplex("the request's database work took too long; ask for less at once".into()),
            None => AppError::Internal(anyhow::anyhow!("{:#}", err.0)),
        }
    }
}

/// Rows found for some customers, by customer.
pub type Found<R> = HashMap<CustomerId, Vec<Arc<R>>>;

/// What every loader of a request shares: the reads of many customers' rows at once, each on
/// a connection of the request's lease.
#[derive(Clone)]
struct Scope {
    lease: Lease,
    store: StoreId,
}

impl Scope {
    async fn conn(&self) -> Result<GatedConn, LoadError> {
        Ok(self.lease.conn().await?)
    }

    async fn addresses(&self, customers: &[CustomerId]) -> Result<Found<AddressRow>, LoadError> {
        let mut conn = self.conn().await?;
        Ok(shared(addresses::for_customers(&mut conn, self.store, customers).await?))
    }

    async fn timelines(&self, customers: &[CustomerId], query: &TimelineQuery) -> Result<Found<EventRow>, LoadError> {
        let mut conn = self.conn().await?;
        Ok(shared(activity::timelines(&mut conn, self.store, customers, query).await?))
    }

    async fn notes(&self, customers: &[CustomerId], query: &NotesQuery) -> Result<Found<NoteRow>, LoadError> {
        let mut conn = self.conn().await?;
        Ok(shared(notes::newest(&mut conn, self.store, customers, query.position, query.limit).await?))
    }
}

/// The customers asking each distinct query among `keys` (one statement runs per query).
fn by_query<Q: Hash + Eq + Clone>(keys: &[(CustomerId, Q)]) -> HashMap<Q, Vec<CustomerId>> {
    let mut groups: HashMap<Q, Vec<CustomerId>> = HashMap::new();
    for (customer, query) in keys {
        groups.entry(query.clone()).or_default().push(*customer);
    }
    groups
}

/// Files one query's results under each asking customer's key (empty when it found nothing).
fn file<Q: Hash + Eq + Clone, V: Default>(
    out: &mut HashMap<(CustomerId, Q), V>,
    query: Q,
    customers: Vec<CustomerId>,
    mut found: HashMap<CustomerId, V>,
) {
    for customer in customers {
        out.insert((customer, query.clone()), found.remove(&customer).unwrap_or_default());
    }
}

/// Rows shared rather than copied: a loader hands each asking field a clone of its value.
fn shared<K: Hash + Eq, R>(found: HashMap<K, Vec<R>>) -> HashMap<K, Vec<Arc<R>>> {
    found.into_iter().map(|(key, rows)| (key, rows.into_iter().map(Arc::new).collect())).collect()
}

/// A customer's addresses.
pub struct AddressLoader(Scope);

impl Loader<CustomerId> for AddressLoader {
    type Value = Vec<Arc<AddressRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[CustomerId]) -> Result<HashMap<CustomerId, Self::Value>, Self::Error> {
        self.0.addresses(keys).await
    }
}

/// A page of one customer's timeline.
pub type TimelineKey = (CustomerId, TimelineQuery);

/// Timeline pages.
pub struct TimelineLoader(Scope);

impl Loader<TimelineKey> for TimelineLoader {
    type Value = Vec<Arc<EventRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[TimelineKey]) -> Result<HashMap<TimelineKey, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (query, customers) in by_query(keys) {
            let found = self.0.timelines(&customers, &query).await?;
            file(&mut out, query, customers, found);
        }
        Ok(out)
    }
}

/// Which notes of a customer to show: after a (created_at, id) position, how many.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotesQuery {
    pub position: Option<(DateTime<Utc>, uuid::Uuid)>,
    pub limit: i64,
}

/// A page of one customer's notes.
pub type NotesKey = (CustomerId, NotesQuery);

/// Notes pages.
pub struct NotesLoader(Scope);

impl Loader<NotesKey> for NotesLoader {
    type Value = Vec<Arc<NoteRow>>;
    type Error = LoadError;

    async fn load(&self, keys: &[NotesKey]) -> Result<HashMap<NotesKey, Self::Value>, Self::Error> {
        let mut out = HashMap::with_capacity(keys.len());
        for (query, customers) in by_query(keys) {
            let found = self.0.notes(&customers, &query).await?;
            file(&mut out, query, customers, found);
        }
        Ok(out)
    }
}

/// A customer's enrichment.
pub struct EnrichmentLoader(Scope);

impl Loader<CustomerId> for EnrichmentLoader {
    type Value = Arc<EnrichmentRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[CustomerId]) -> Result<HashMap<CustomerId, Self::Value>, Self::Error> {
        let mut conn = self.0.conn().await?;
        Ok(enrichment::for_customers(&mut conn, self.0.store, keys).await?.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
    }
}

/// The segments a customer belongs to.
pub struct SegmentLoader(Scope);

impl Loader<CustomerId> for SegmentLoader {
    type Value = Vec<SegmentRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[CustomerId]) -> Result<HashMap<CustomerId, Self::Value>, Self::Error> {
        let mut conn = self.0.conn().await?;
        let all = segments::all(&mut conn, self.0.store).await?;
        if all.is_empty() {
            return Ok(HashMap::new());
        }
        let by_id: HashMap<uuid::Uuid, &SegmentRow> = all.iter().map(|s| (s.id, s)).collect();
        let state = metrics::state(&mut conn, self.0.store).await?;
        let rules = state.rules_context();
        let memberships = segments::memberships(&mut conn, self.0.store, &all, keys, Utc::now(), &rules).await.map_err(|e| LoadError::from(anyhow::anyhow!("{e:?}")))?;
        Ok(memberships.into_iter().map(|(c, ids)| (c, ids.iter().filter_map(|id| by_id.get(id).map(|s| (*s).clone())).collect())).collect())
    }
}

/// Every loader of one request.
pub struct Loaders {
    pub addresses: DataLoader<AddressLoader>,
    pub timelines: DataLoader<TimelineLoader>,
    pub notes: DataLoader<NotesLoader>,
    pub segments: DataLoader<SegmentLoader>,
    pub enrichment: DataLoader<EnrichmentLoader>,
    /// The store's RFM breakpoints and model, read once per request when metrics are asked for.
    store_metrics: OnceCell<StoreMetricsState>,
    scope: Scope,
}

impl Loaders {
    /// Fresh loaders for one HTTP request acting for `store`; its handler runs the request
    /// with `batches.drive(...)`.
    pub fn for_request(lease: &Lease, store: StoreId, batches: &Batches) -> Self {
        // No delay: the batch first runs after the resolvers' pass, with every key of the page.
        Self::with_spawner(lease, store, batches.spawner(), Duration::ZERO)
    }

    /// Fresh loaders whose batches run on spawned tasks (WebSocket connections, where the
    /// transport executes operations itself).
    pub fn spawning(lease: &Lease, store: StoreId) -> Self {
        let spawner = |batch| {
            tokio::spawn(batch);
        };
        Self::with_spawner(lease, store, spawner, Duration::from_millis(2))
    }

    fn with_spawner(
        lease: &Lease,
        store: StoreId,
        spawner: impl Fn(BoxFuture<'static, ()>) + Clone + Send + Sync + 'static,
        delay: Duration,
    ) -> Self {
        let scope = Scope { lease: lease.clone(), store };
        Self {
            addresses: DataLoader::new(AddressLoader(scope.clone()), spawner.clone()).delay(delay),
            timelines: DataLoader::new(TimelineLoader(scope.clone()), spawner.clone()).delay(delay),
            notes: DataLoader::new(NotesLoader(scope.clone()), spawner.clone()).delay(delay),
            segments: DataLoader::new(SegmentLoader(scope.clone()), spawner.clone()).delay(delay),
            enrichment: DataLoader::new(EnrichmentLoader(scope.clone()), spawner).delay(delay),
            store_metrics: OnceCell::new(),
            scope,
        }
    }

    /// The store's metrics state, loaded by the first field that needs it (one statement).
    pub async fn store_metrics(&self) -> Result<&StoreMetricsState, AppError> {
        self.store_metrics
            .get_or_try_init(|| async {
                let mut conn = self.scope.conn().await?;
                Ok::<_, LoadError>(metrics::state(&mut conn, self.scope.store).await?)
            })
            .await
            .map_err(AppError::from)
    }

    /// The addresses of `customers`, read now (one statement).
    pub async fn read_addresses(&self, customers: &[CustomerId]) -> Result<Found<AddressRow>, LoadError> {
        self.scope.addresses(customers).await
    }

    /// A page of each customer's timeline, read now (one statement).
    pub async fn read_timelines(&self, customers: &[CustomerId], query: &TimelineQuery) -> Result<Found<EventRow>, LoadError> {
        self.scope.timelines(customers, query).await
    }

    /// A page of each customer's notes, read now (one statement).
    pub async fn read_notes(&self, customers: &[CustomerId], query: &NotesQuery) -> Result<Found<NoteRow>, LoadError> {
        self.scope.notes(customers, query).await
    }

    /// The request's loaders.
    pub fn of<'a>(ctx: &Context<'a>) -> Result<&'a Self, AppError> {
        ctx.data_opt::<Self>().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no loaders in request")))
    }
}
