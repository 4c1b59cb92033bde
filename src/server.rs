//! Assembling and running the server: migrations, pool, schema, router, graceful shutdown.

use crate::config::Config;
use crate::db::{self, DbPool};
use crate::domain::data_request::DownloadLinks;
use crate::graphql::data_requests::subscription::DataRequestChanges;
use crate::graphql::{self, Shared};
use crate::db::gate::Gate;
use crate::graphql::throttle::Throttle;
use crate::http::auth::KeyCache;
use crate::http::{self, AppState};
use crate::jobs::{self, JobContext};
use crate::notifications::{self, Notifications};
use axum::Router;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A server ready to serve: its router, pool, and what it hears from PostgreSQL.
pub struct App {
    pub router: Router,
    pub pool: DbPool,
    pub notifications: Notifications,
}

/// Applies pending migrations and builds the router, its pool and the notification listener.
pub async fn prepare(config: &Config) -> anyhow::Result<App> {
    let applied = db::migrate::run(&config.database.url).await?;
    if applied > 0 {
        tracing::info!(applied, "applied migrations");
    }
    let pool = db::connect_pool(&config.database)?;
    let notifications = notifications::start(config.database.url.clone()).await;
    let shared = Shared {
        gate: Gate::new(pool.clone(), config.database.shares),
        links: links(config),
        webhooks: config.webhooks.clone(),
        data_request_changes: DataRequestChanges(notifications.data_requests.clone()),
    };
    let throttle = Throttle::start(&config.limits, pool.clone());
    let api = graphql::api(shared, &config.limits, throttle, Duration::from_secs(config.http.query_timeout_secs));
    let keys = KeyCache::start(pool.clone(), &notifications.keys);
    let sessions = http::ws::session::Shared {
        api: api.clone(),
        keys: keys.clone(),
        key_changes: notifications.keys.clone(),
        subscriptions: Default::default(),
        limits: config.http.websocket,
    };
    let metrics = http::metrics::HttpMetrics::default();
    let state = AppState {
        api,
        keys,
        sessions,
        secret: config.secret.clone(),
        pool: pool.clone(),
        max_body_bytes: config.http.max_body_bytes,
        // the request's own timeout, and then some
        idempotency_lease: Duration::from_secs(config.http.query_timeout_secs + 30),
        metrics: metrics.clone(),
        metrics_token: config.http.metrics_token.clone(),
        metrics_open: config.http.metrics_open,
        graphiql: config.http.graphiql,
    };
    http::metrics::spawn_refresher(&metrics, pool.clone(), config.http.metrics_refresh, jobs::JobKind::ALL.map(jobs::JobKind::as_str).to_vec());
    Ok(App { router: http::router(state, &config.http), pool, notifications })
}

fn links(config: &Config) -> DownloadLinks {
    DownloadLinks { base_url: config.http.public_url.clone(), secret: config.secret.0.clone() }
}

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(config: &Config, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let App { router, pool, notifications } = prepare(config).await?;
    if config.jobs.metrics_interval_secs > 0 {
        jobs::metrics::spawn(pool.clone(), Duration::from_secs(config.jobs.metrics_interval_secs));
    }
    tokio::spawn(backfill_enrichment(pool.clone()));
    let (stop, stopped) = watch::channel(false);
    let workers = start_workers(config, &pool, config.jobs.workers, &notifications, &stopped)?;
    tracing::info!(address = %listener.local_addr()?, workers = workers.len(), graphiql = config.http.graphiql, "listening");
    http::listener::serve(listener, router, config.http.connections, shutdown).await;
    stop_workers(&stop, workers).await;
    Ok(())
}

/// Writes the enrichment of customers that have none (from before enrichment existed), once.
async fn backfill_enrichment(pool: DbPool) {
    let filled = async { anyhow::Ok(db::enrichment::backfill_all(&mut *pool.get().await?).await?) };
    match filled.await {
        Ok(0) => {}
        Ok(stores) => tracing::info!(stores, "wrote missing enrichment"),
        Err(err) => tracing::warn!(error = format!("{err:#}"), "enrichment backfill failed"),
    }
}

/// Runs job workers only (`whale-crm worker`) until `shutdown` resolves.
pub async fn work(config: &Config, count: usize, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    db::migrate::run(&config.database.url).await?;
    let pool = db::connect_pool(&config.database)?;
    let notifications = notifications::start(config.database.url.clone()).await;
    let (stop, stopped) = watch::channel(false);
    let workers = start_workers(config, &pool, count.max(1), &notifications, &stopped)?;
    tracing::info!(workers = workers.len(), "job workers running");
    shutdown.await;
    stop_workers(&stop, workers).await;
    Ok(())
}

/// Starts `count` job workers, woken by `notifications`.
pub fn start_workers(config: &Config, pool: &DbPool, count: usize, notifications: &Notifications, stopped: &watch::Receiver<bool>) -> anyhow::Result<Vec<JoinHandle<()>>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let context = JobContext { pool: pool.clone(), links: links(config), webhooks: jobs::webhooks::Sender::new(&config.webhooks)? };
    Ok(jobs::worker::spawn(&context, count, &jobs::worker::Settings::from(config), &notifications.job_wakeups, stopped))
}

/// Lets the workers finish their current jobs (for up to 30 s; a job cut short is taken over by
/// another worker once its lease runs out).
async fn stop_workers(stop: &watch::Sender<bool>, workers: Vec<JoinHandle<()>>) {
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), futures_util::future::join_all(workers)).await;
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
