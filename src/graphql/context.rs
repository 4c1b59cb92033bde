//! What a resolver knows about its request: the store and key it acts for, and how to get a
//! database connection (through the request's lease, which keeps it to its share of the pool).

use crate::db::api_keys::KeyGrant;
use crate::db::gate::{GatedConn, Lease};
use crate::domain::ids::StoreId;
use crate::error::AppError;
use async_graphql::Context;

/// How an operation arrived: what it may do depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `GET /graphql`: queries only.
    HttpGet,
    /// `POST /graphql`: queries and mutations.
    HttpPost,
    /// `/graphql/ws`: anything, subscriptions included.
    WebSocket,
}

/// Per-request facts, attached by the transport after authentication.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub grant: KeyGrant,
    /// Correlates logs with an `INTERNAL` error's `extensions.requestId`.
    pub request_id: String,
    pub transport: Transport,
}

/// The request's context; every resolver runs after authentication, so it is always present.
pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, AppError> {
    ctx.data_opt::<RequestContext>().ok_or(AppError::Unauthenticated)
}

/// The store this request acts for.
pub fn store(ctx: &Context<'_>) -> Result<StoreId, AppError> {
    Ok(request(ctx)?.grant.store_id)
}

/// The request's lease on the pool.
pub fn lease<'a>(ctx: &Context<'a>) -> Result<&'a Lease, AppError> {
    ctx.data_opt::<Lease>().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no lease in request data")))
}

/// A pooled connection, within the request's share.
pub async fn conn(ctx: &Context<'_>) -> Result<GatedConn, AppError> {
    Ok(lease(ctx)?.conn().await?)
}
