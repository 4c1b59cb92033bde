//! Metrics (SPEC §7): `Customer.metrics`, the store's `metricsModel` and `refitMetricsModel`.

pub mod model;
pub mod types;

use crate::domain::segment::MetricsContext;
use crate::error::AppError;
use crate::graphql::loaders::Loaders;
use async_graphql::Context;

/// The request's metrics context (the store state is read once per request).
pub async fn request_rules_context(ctx: &Context<'_>) -> Result<MetricsContext, AppError> {
    Ok(Loaders::of(ctx)?.store_metrics().await?.rules_context())
}
