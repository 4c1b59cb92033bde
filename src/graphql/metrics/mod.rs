//! Metrics (SPEC §7): `Customer.metrics`, the store's `metricsModel` and `refitMetricsModel`.

pub mod model;
pub mod types;

use crate::db::metrics::{ModelRow, StoreMetricsState};
use crate::domain::btyd::{BgNbdParams, GammaGammaParams, Models};
use crate::domain::segment::MetricsContext;
use crate::error::AppError;
use crate::graphql::loaders::Loaders;
use async_graphql::Context;

/// The models a stored fit provides, when both parts converged.
pub fn models_of(row: &ModelRow) -> Option<Models> {
    if !(row.bgnbd_converged && row.gamma_gamma_converged) {
        return None;
    }
    Some(Models {
        purchases: BgNbdParams { r: row.bgnbd_r?, alpha: row.bgnbd_alpha?, a: row.bgnbd_a?, b: row.bgnbd_b? },
        spend: GammaGammaParams { p: row.gamma_gamma_p?, q: row.gamma_gamma_q?, v: row.gamma_gamma_v? },
    })
}

/// What metric rules evaluate against, from a store's state.
pub fn rules_context(state: &StoreMetricsState) -> MetricsContext {
    MetricsContext { breakpoints: state.breakpoints.clone(), models: state.model.as_ref().and_then(models_of) }
}

/// The request's metrics context (the store state is read once per request).
pub async fn request_rules_context(ctx: &Context<'_>) -> Result<MetricsContext, AppError> {
    Ok(rules_context(Loaders::of(ctx)?.store_metrics().await?))
}
