//! `metricsModel` and `refitMetricsModel`: the store's fitted models, the data they came from,
//! and whether they are in use.

use crate::db::metrics::{self, ModelRow, StoreMetricsState};
use crate::db;
use crate::domain::ids::StoreId;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::metrics::types::MetricsMethod;
use crate::graphql::scalars::Timestamp;
use crate::jobs::{self, JobKind};
use async_graphql::{Context, Object, Result, SimpleObject};
use diesel_async::AsyncPgConnection;
use std::time::Duration;

/// How long `refitMetricsModel` waits for its fit (well inside the request timeout).
const REFIT_WAIT: Duration = Duration::from_secs(20);

/// BG/NBD parameters (Fader, Hardie & Lee 2005), time in days.
#[derive(SimpleObject)]
pub struct BgNbdParameters {
    /// Shape of the purchase-rate gamma distribution.
    pub r: f64,
    /// Scale of the purchase-rate gamma distribution, in days.
    pub alpha: f64,
    /// First shape of the dropout-probability beta distribution.
    pub a: f64,
    /// Second shape of the dropout-probability beta distribution.
    pub b: f64,
    /// Log-likelihood at the optimum.
    pub log_likelihood: Option<f64>,
    /// Optimiser iterations.
    pub iterations: Option<i32>,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// Gamma-Gamma spend parameters (Fader & Hardie 2013).
#[derive(SimpleObject)]
pub struct GammaGammaParameters {
    /// Shape of the per-transaction spend gamma distribution.
    pub p: f64,
    /// Shape of the customers' spend-scale gamma distribution.
    pub q: f64,
    /// Scale of the customers' spend-scale gamma distribution.
    pub v: f64,
    /// Whether the optimiser converged.
    pub converged: bool,
}

/// A store's metrics model: how churn risk and predicted value are computed.
pub struct MetricsModel {
    state: StoreMetricsState,
    refit_pending: bool,
}

impl MetricsModel {
    async fn load(conn: &mut AsyncPgConnection, store: StoreId) -> Result<Self, AppError> {
        Ok(Self {
            state: metrics::state(conn, store).await?,
            refit_pending: db::jobs::pending(conn, store, JobKind::MetricsRefit.as_str()).await?,
        })
    }
}

/// A store's metrics model: how churn risk and predicted value are computed.
#[Object]
impl MetricsModel {
    /// MODEL when the fitted models are in use, FALLBACK before the store has enough data (or
    /// while the last fit did not converge).
    async fn method(&self) -> MetricsMethod {
        if self.state.model.as_ref().and_then(ModelRow::models).is_some() { MetricsMethod::Model } else { MetricsMethod::Fallback }
    }
    /// Whether a refit is queued or running (the fields describe the last finished fit until it
    /// ends).
    async fn refit_pending(&self) -> bool {
        self.refit_pending
    }
    /// Why the fallback is in use, when it is.
    async fn fallback_reason(&self) -> Option<String> {
        match &self.state.model {
            None => Some("no fit yet: the first runs in the background once the store has orders".into()),
            Some(m) => m.fallback_reason.clone(),
        }
    }
    /// The BG/NBD fit, when there is one.
    async fn bg_nbd(&self) -> Option<BgNbdParameters> {
        let m = self.state.model.as_ref()?;
        Some(BgNbdParameters {
            r: m.bgnbd_r?,
            alpha: m.bgnbd_alpha?,
            a: m.bgnbd_a?,
            b: m.bgnbd_b?,
            log_likelihood: m.bgnbd_log_likelihood,
            iterations: m.bgnbd_iterations,
            converged: m.bgnbd_converged,
        })
    }
    /// The Gamma-Gamma fit, when there is one.
    async fn gamma_gamma(&self) -> Option<GammaGammaParameters> {
        let m = self.state.model.as_ref()?;
        Some(GammaGammaParameters { p: m.gamma_gamma_p?, q: m.gamma_gamma_q?, v: m.gamma_gamma_v?, converged: m.gamma_gamma_converged })
    }
    /// Customers with at least one order the fit used.
    async fn customers_used(&self) -> i32 {
        self.state.model.as_ref().map_or(0, |m| m.customers_used)
    }
    /// Of those, customers with a repeat purchase day.
    async fn repeat_customers_used(&self) -> i32 {
        self.state.model.as_ref().map_or(0, |m| m.repeat_customers_used)
    }
    /// Orders behind the fit.
    async fn orders_used(&self) -> i64 {
        self.state.model.as_ref().map_or(0, |m| m.orders_used)
    }
    /// The last UTC day of data the fit saw (ISO date).
    async fn observed_until(&self) -> Option<String> {
        self.state.model.as_ref()?.observed_until.map(|d| d.to_string())
    }
    /// When the fit ran.
    async fn fitted_at(&self) -> Option<Timestamp> {
        self.state.model.as_ref()?.fitted_at.map(Timestamp)
    }
    /// How long the fit took, in milliseconds.
    async fn fit_duration_ms(&self) -> Option<i32> {
        self.state.model.as_ref()?.fit_duration_ms
    }
}

/// The metrics model query.
#[derive(Default)]
pub struct MetricsQuery;

#[Object]
impl MetricsQuery {
    /// The store's metrics model: fitted parameters, the data behind them, and whether they are
    /// in use.
    async fn metrics_model(&self, ctx: &Context<'_>) -> Result<MetricsModel> {
        let mut conn = context::conn(ctx).await?;
        Ok(MetricsModel::load(&mut conn, context::store(ctx)?).await?)
    }
}

/// The metrics model mutation.
#[derive(Default)]
pub struct MetricsMutation;

#[Object]
impl MetricsMutation {
    /// Refits the store's models now (and refreshes the RFM breakpoints) instead of waiting for
    /// the background refit. The fit runs as a job; this waits up to 20 seconds for it and
    /// returns the model — a larger store's fit goes on in the background, with `refitPending`
    /// true until it ends. A refit already queued is not queued twice.
    async fn refit_metrics_model(&self, ctx: &Context<'_>) -> Result<MetricsModel> {
        let store = context::store(ctx)?;
        let job = {
            let mut conn = context::conn(ctx).await?;
            jobs::metrics::enqueue_refit(&mut conn, store).await.map_err(AppError::from)?
        };
        jobs::wait_until_finished(context::lease(ctx)?, job, REFIT_WAIT).await?;
        let mut conn = context::conn(ctx).await?;
        Ok(MetricsModel::load(&mut conn, store).await?)
    }
}
