//! What a resolver knows about its request: the store and key it acts for, and how to get a
//! database connection.

use crate::db::api_keys::KeyGrant;
use crate::db::pool::{DbConn, DbPool};
use crate::domain::ids::StoreId;
use crate::error::AppError;
use async_graphql::Context;

/// Per-request facts, attached by the HTTP layer after authentication.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub grant: KeyGrant,
    /// Correlates logs with an `INTERNAL` error's `extensions.requestId`.
    pub request_id: String,
}

/// The request's context; every resolver runs after authentication, so it is always present.
pub fn request<'a>(ctx: &Context<'a>) -> Result<&'a RequestContext, AppError> {
    ctx.data_opt::<RequestContext>().ok_or(AppError::Unauthenticated)
}

/// The store this request acts for.
pub fn store(ctx: &Context<'_>) -> Result<StoreId, AppError> {
    Ok(request(ctx)?.grant.store_id)
}

/// A pooled connection.
pub async fn conn(ctx: &Context<'_>) -> Result<DbConn, AppError> {
    let pool = ctx.data_opt::<DbPool>().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no pool in schema data")))?;
    Ok(pool.get().await?)
}
