//! Keeping each store's metrics state current: RFM breakpoints refreshed on every pass, and a
//! refit of the BG/NBD and Gamma-Gamma models queued (a `metrics.refit` job, run by whichever
//! worker claims it) when enough new orders arrived (10% more than the last fit used, and at least
//! 10) or the fit is a day old. Fits run on the blocking pool. The pass also prunes jobs finished
//! more than a week ago and webhook deliveries finished more than 30 days ago, and queues the
//! behaviour enrichment of stores whose facts are stale (in case a job was lost).

use super::JobKind;
use crate::db::DbPool;
use crate::db::jobs::{self, NewJob};
use crate::db::metrics::{self, ModelRow};
use crate::db::{enrichment, webhooks};
use crate::domain::ids::{JobId, StoreId};
use crate::domain::metrics::fit_store;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use std::time::Duration;

/// Runs `pass` every `interval`, forever, restarting it after a failure or a panic.
pub fn spawn(pool: DbPool, interval: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let pass = tokio::spawn(pass(pool.clone()));
            match pass.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(error = format!("{err:#}"), "metrics pass failed"),
                Err(panic) => tracing::error!(error = %panic, "metrics pass panicked"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}

/// One pass over every store with orders.
pub async fn pass(pool: DbPool) -> anyhow::Result<()> {
    let mut conn = pool.get().await?;
    jobs::prune(&mut conn, 7).await?;
    webhooks::prune(&mut conn, webhooks::LOG_RETENTION_DAYS).await?;
    crate::db::idempotency::prune(&mut conn).await?;
    for store in enrichment::stores_with_stale_behaviour(&mut conn).await? {
        enrichment::queue_behaviour(&mut conn, StoreId(store)).await?;
    }
    for (store, orders, used) in metrics::stores_with_orders(&mut conn).await? {
        let store = StoreId(store);
        metrics::refresh_breakpoints(&mut conn, store).await?;
        let state = metrics::state(&mut conn, store).await?;
        let stale = state.model.as_ref().and_then(|m| m.fitted_at).is_none_or(|t| Utc::now() - t > chrono::Duration::days(1));
        let grown = used.is_none_or(|used| orders >= used + (used / 10).max(10));
        if stale || grown {
            enqueue_refit(&mut conn, store).await?;
        }
    }
    Ok(())
}

/// Queues a refit of the store's models (or returns the one already queued).
pub async fn enqueue_refit(conn: &mut AsyncPgConnection, store: StoreId) -> diesel::QueryResult<JobId> {
    let kind = JobKind::MetricsRefit;
    let job = NewJob {
        store,
        kind: kind.as_str(),
        lane: kind.lane(),
        payload: serde_json::json!({}),
        dedupe_key: Some("refit".into()),
        max_attempts: kind.max_attempts(),
        run_at: None,
    };
    jobs::enqueue(conn, &job).await
}

/// Fits the store's models now from all its buying customers, saves the fit and refreshes the
/// RFM breakpoints; returns the saved model.
pub async fn refit(conn: &mut AsyncPgConnection, store: StoreId) -> anyhow::Result<ModelRow> {
    let stats = metrics::order_stats(conn, store).await?;
    let today = Utc::now().date_naive();
    let fit = tokio::task::spawn_blocking(move || fit_store(&stats, today)).await?;
    let bg = fit.bgnbd.as_ref();
    let gg = fit.gamma_gamma.as_ref();
    let row = ModelRow {
        store_id: store.0,
        bgnbd_r: bg.map(|f| f.params.r),
        bgnbd_alpha: bg.map(|f| f.params.alpha),
        bgnbd_a: bg.map(|f| f.params.a),
        bgnbd_b: bg.map(|f| f.params.b),
        bgnbd_log_likelihood: bg.map(|f| f.log_likelihood),
        bgnbd_iterations: bg.map(|f| f.iterations as i32),
        bgnbd_converged: bg.is_some_and(|f| f.converged),
        gamma_gamma_p: gg.map(|f| f.params.p),
        gamma_gamma_q: gg.map(|f| f.params.q),
        gamma_gamma_v: gg.map(|f| f.params.v),
        gamma_gamma_converged: gg.is_some_and(|f| f.converged),
        customers_used: fit.customers as i32,
        repeat_customers_used: fit.repeat_customers as i32,
        orders_used: fit.orders,
        observed_until: Some(fit.observed_until),
        fit_duration_ms: Some(fit.duration.as_millis().min(i32::MAX as u128) as i32),
        fitted_at: Some(Utc::now()),
        fallback_reason: fit.fallback_reason.clone(),
    };
    metrics::save_model(conn, &row).await?;
    metrics::refresh_breakpoints(conn, store).await?;
    tracing::info!(store = %store, customers = fit.customers, converged = fit.models().is_some(), ms = fit.duration.as_millis() as u64, "metrics model fitted");
    Ok(row)
}
