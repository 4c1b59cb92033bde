//! `dataRequest` and `dataRequests`.

use super::types::{DataRequest, DataRequestConnection, DataRequestStatus, DataRequestType};
use crate::db::data_requests::{self, Filter};
use crate::domain::ids::DataRequestId;
use crate::error::AppError;
use crate::graphql::activity::connection::TimeCursor;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use crate::graphql::pagination::{keyset_page, page_size};
use async_graphql::{Context, ID, Object, Result};

/// Data protection queries.
#[derive(Default)]
pub struct DataRequestQuery;

#[Object]
impl DataRequestQuery {
    /// A data request by id; null when there is none in this store.
    async fn data_request(&self, ctx: &Context<'_>, #[graphql(desc = "The request's id (`dreq_...`).")] id: ID) -> Result<Option<DataRequest>> {
        let id = DataRequestId::parse(&id).map_err(|e| AppError::bad_input("id", e.to_string()))?;
        let mut conn = context::conn(ctx).await?;
        Ok(data_requests::find(&mut conn, context::store(ctx)?, id).await.map_err(AppError::from)?.map(DataRequest))
    }

    /// The store's data requests, newest first.
    async fn data_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only requests about this customer.")] customer_id: Option<ID>,
        #[graphql(name = "type", desc = "Only requests of this type.")] request_type: Option<DataRequestType>,
        #[graphql(desc = "Only requests in this status.")] status: Option<DataRequestStatus>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor`).")] after: Option<String>,
    ) -> Result<DataRequestConnection> {
        let first = page_size(first)?;
        let position = TimeCursor::parse("after", after.as_deref())?;
        let filter = Filter {
            customer: customer_id.as_ref().map(|id| self::customer_id("customerId", id)).transpose()?,
            kind: request_type.map(Into::into),
            status: status.map(DataRequestStatus::as_str),
        };
        let mut conn = context::conn(ctx).await?;
        let rows = data_requests::list(&mut conn, context::store(ctx)?, &filter, position, first + 1).await.map_err(AppError::from)?;
        let (rows, page_info) = keyset_page(rows, first, position.is_some(), |r| TimeCursor::encode(r.row.created_at, r.row.id));
        Ok(DataRequestConnection { nodes: rows.into_iter().map(DataRequest).collect(), page_info })
    }
}
