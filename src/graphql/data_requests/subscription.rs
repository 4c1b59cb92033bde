//! `dataRequestCompleted` and `dataRequestUpdated`: status changes announced with NOTIFY by
//! whichever instance made them (`db::data_requests::CHANNEL`, the request as changed), heard by
//! every instance (`notifications`) and filtered to the subscriber's store. Each change is sent
//! as it was made, not as the request is by the time it is sent.

use super::types::DataRequest;
use crate::db::gate::Gate;
use crate::db::data_requests::{self, DataRequestRow};
use crate::domain::ids::{CustomerId, DataRequestId, StoreId};
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use crate::graphql::errors::code;
use async_graphql::{Context, ErrorExtensions, ID, Result, Subscription};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};

/// Every data request status change this instance hears (`None`: some may have been missed).
#[derive(Clone)]
pub struct DataRequestChanges(pub broadcast::Sender<Option<DataRequestRow>>);

/// Data request subscriptions.
#[derive(Default)]
pub struct DataRequestSubscription;

#[Subscription]
impl DataRequestSubscription {
    /// Fires when a data request finishes — COMPLETED, or FAILED after its last attempt (read
    /// `status`) — whichever server instance or worker finished it. With `id`: once, for that
    /// request (at once if it has already finished), then the subscription ends. With
    /// `customerId`: for that customer's requests. With neither: for every request of the store.
    async fn data_request_completed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this request (`dreq_...`).")] id: Option<ID>,
        #[graphql(desc = "Only requests about this customer.")] customer_id: Option<ID>,
    ) -> Result<BoxStream<'static, Result<DataRequest>>> {
        watch(ctx, id.as_ref(), customer_id.as_ref(), true).await
    }

    /// Fires on every status change of a data request: PENDING (made), PROCESSING, COMPLETED,
    /// FAILED. With `id`: that request's changes, ending after it finishes (a request that has
    /// already finished is sent once, as it is). With `customerId`:
    /// that customer's requests. With neither: every request of the store.
    async fn data_request_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this request (`dreq_...`).")] id: Option<ID>,
        #[graphql(desc = "Only requests about this customer.")] customer_id: Option<ID>,
    ) -> Result<BoxStream<'static, Result<DataRequest>>> {
        watch(ctx, id.as_ref(), customer_id.as_ref(), false).await
    }
}

/// What one subscription listens for.
struct Watcher {
    store: StoreId,
    request: Option<DataRequestId>,
    customer: Option<CustomerId>,
    finished_only: bool,
    gate: Gate,
}

impl Watcher {
    fn wants(&self, change: &DataRequestRow) -> bool {
        change.store_id == self.store.0
            && self.request.is_none_or(|r| r.0 == change.id)
            && self.customer.is_none_or(|c| c.0 == change.customer_id)
            && (!self.finished_only || change.is_finished())
    }

    async fn load(&self, id: DataRequestId) -> Result<Option<data_requests::DataRequest>, AppError> {
        // (a lease per look: a subscription lives long, its waits should not add up)
        let mut conn = self.gate.lease(self.store).conn().await?;
        Ok(data_requests::find(&mut conn, self.store, id).await?)
    }

    /// The next request to send, and whether the subscription ends after it; an error ends it.
    async fn next(&self, changes: &mut broadcast::Receiver<Option<DataRequestRow>>) -> Option<Result<(DataRequest, bool)>> {
        loop {
            let request = match changes.recv().await {
                Ok(Some(change)) if self.wants(&change) => data_requests::DataRequest { row: change, job_run_at: None },
                Ok(Some(_)) => continue,
                // Changes may have been missed: a subscription to one request looks again; a
                // wider one cannot know what it missed, and says so.
                Ok(None) | Err(RecvError::Lagged(_)) => match self.request {
                    Some(id) => match self.load(id).await {
                        Ok(Some(request)) if !self.finished_only || request.row.is_finished() => request,
                        Ok(_) => continue,
                        Err(err) => return Some(Err(err.into())),
                    },
                    None => return Some(Err(missed())),
                },
                Err(RecvError::Closed) => return None,
            };
            let last = self.request.is_some() && request.row.is_finished();
            return Some(Ok((DataRequest(request), last)));
        }
    }
}

/// The error that ends a subscription which may have missed changes.
fn missed() -> async_graphql::Error {
    async_graphql::Error::new(
        "this subscription may have missed changes (the server's database connection was interrupted, or the subscriber fell far \
         behind): subscribe again, then read the current state with `dataRequests`",
    )
    .extend_with(|_, e| e.set("code", code::INTERNAL))
}

async fn watch(ctx: &Context<'_>, id: Option<&ID>, customer: Option<&ID>, finished_only: bool) -> Result<BoxStream<'static, Result<DataRequest>>> {
    let store = context::store(ctx)?;
    let request = id.map(|id| DataRequestId::parse(id).map_err(|e| AppError::bad_input("id", e.to_string()))).transpose()?;
    let customer = customer.map(|c| customer_id("customerId", c)).transpose()?;
    // Listen first, then read the current state: nothing can slip between the two.
    let changes = ctx.data::<DataRequestChanges>()?.0.subscribe();
    let watcher = Watcher { store, request, customer, finished_only, gate: ctx.data::<Gate>()?.clone() };
    if let Some(id) = request {
        let current = watcher.load(id).await?.ok_or_else(|| AppError::not_found("data request", id, "id"))?;
        if customer.is_some_and(|c| c.0 != current.row.customer_id) {
            return Err(AppError::bad_input("customerId", "is not the customer this request is about").into());
        }
        if current.row.is_finished() {
            // nothing more will happen to it
            return Ok(stream::once(async move { Ok(DataRequest(current)) }).boxed());
        }
    }
    let watched = stream::unfold(Some((watcher, changes)), |state| async move {
        let (watcher, mut changes) = state?;
        match watcher.next(&mut changes).await? {
            Ok((request, false)) => Some((Ok(request), Some((watcher, changes)))),
            Ok((request, true)) => Some((Ok(request), None)),
            Err(err) => Some((Err(err), None)),
        }
    });
    Ok(watched.boxed())
}
