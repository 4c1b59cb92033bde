//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format — HTTP requests by route and
//! status with their durations (counted by a middleware around every route), this process's
//! connection pool, and the job queue, webhook deliveries and data requests as the database had
//! them at the last refresh (a background task reads them every `WHALE_METRICS_REFRESH_SECS`; a
//! scrape runs no SQL, however often it comes). Only totals across stores: no store's data.
//! Closed unless configured: with `WHALE_METRICS_TOKEN` set, scrapes must send it as a bearer
//! token; without one, `/metrics` answers only with `WHALE_METRICS_OPEN=true` (403 otherwise).

use super::AppState;
use super::auth::bearer;
use super::graphql::wants_debug;
use crate::db::DbPool;
use crate::db::queue_counts::{self, QueueCount};
use crate::db::statements;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use subtle::ConstantTimeEq;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// The counters kept between scrapes, and the last totals read from the database.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    queues: Arc<RwLock<Option<QueueSnapshot>>>,
}

/// The database's totals at one moment.
struct QueueSnapshot {
    counts: Vec<QueueCount>,
    read_at: SystemTime,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            // 1 ms to ~16 s
            durations: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
            queues: Arc::default(),
        }
    }
}

/// Counts every request by the route it matched (not its URL: ids stay out of the labels).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let metrics = &state.metrics;
    metrics.requests.get_or_create(&RequestLabels { route: route.clone(), status: response.status().as_u16() }).inc();
    metrics.durations.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    response
}

/// Reads the database's totals (jobs of `job_kinds` and any other) now and every `every` after,
/// for as long as the process runs.
/// A failed read keeps the last totals (their age shows in `whale_queue_gauges_read_timestamp_seconds`).
pub fn spawn_refresher(metrics: &HttpMetrics, pool: DbPool, every: Duration, job_kinds: Vec<&'static str>) -> tokio::task::JoinHandle<()> {
    let queues = metrics.queues.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let read = async { anyhow::Ok(queue_counts::all(&mut *pool.get().await?, &job_kinds).await?) };
            match read.await {
                Ok(counts) => *queues.write().unwrap_or_else(|e| e.into_inner()) = Some(QueueSnapshot { counts, read_at: SystemTime::now() }),
                Err(err) => tracing::warn!(error = format!("{err:#}"), "metrics gauges not refreshed"),
            }
        }
    })
}

/// Whether this scrape may see the metrics.
fn admitted(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let Some(token) = &state.metrics_token else {
        return match state.metrics_open {
            true => Ok(()),
            false => Err((StatusCode::FORBIDDEN, "metrics are closed: set WHALE_METRICS_TOKEN (scrapers send it as a bearer token) or WHALE_METRICS_OPEN=true\n").into_response()),
        };
    };
    let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).unwrap_or("");
    if bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        Err((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a metrics token is required\n").into_response())
    }
}

/// The scrape. With `Whale-Debug: sql` it says in `Whale-Sql-Statements` how many SQL statements
/// it ran (none).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(refused) = admitted(&state, &headers) {
        return refused;
    }
    let counter = Arc::new(AtomicU64::new(0));
    let text = statements::counted(counter.clone(), async { render(&state) }).await;
    let Some(text) = text else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8".parse().expect("a valid header"));
    if wants_debug(&headers, "sql") {
        response.headers_mut().insert("whale-sql-statements", counter.load(std::sync::atomic::Ordering::Relaxed).into());
    }
    response
}

/// The metrics text, from memory only.
fn render(state: &AppState) -> Option<String> {
    let mut registry = <Registry>::with_prefix("whale");
    registry.register("http_requests", "HTTP requests by matched route and status", state.metrics.requests.clone());
    registry.register("http_request_duration_seconds", "HTTP request durations by matched route", state.metrics.durations.clone());

    let pool = state.pool.status();
    let connections = Family::<StatusLabels, Gauge>::default();
    let in_use = pool.size.saturating_sub(pool.available);
    connections.get_or_create(&StatusLabels { status: "in_use".into() }).set(in_use as i64);
    connections.get_or_create(&StatusLabels { status: "idle".into() }).set(pool.available as i64);
    registry.register("db_connections", "Database connections of this process's pool", connections);
    let waiting = Gauge::<i64>::default();
    waiting.set(pool.waiting as i64);
    registry.register("db_connection_waiters", "Requests waiting for a database connection", waiting);

    // the shared state, as the database had it at the last refresh (the same on every instance)
    let queues = state.metrics.queues.read().unwrap_or_else(|e| e.into_inner());
    if let Some(snapshot) = queues.as_ref() {
        let jobs = Family::<JobLabels, Gauge>::default();
        let deliveries = Family::<StatusLabels, Gauge>::default();
        let requests = Family::<StatusLabels, Gauge>::default();
        for c in snapshot.counts.iter().cloned() {
            match c.kind.as_str() {
                "webhook_delivery" => deliveries.get_or_create(&StatusLabels { status: c.state }).set(c.n),
                "data_request" => requests.get_or_create(&StatusLabels { status: c.state }).set(c.n),
                _ => jobs.get_or_create(&JobLabels { kind: c.kind, state: c.state }).set(c.n),
            };
        }
        registry.register("jobs", "Jobs in the queue by kind and state (finished ones until pruned)", jobs);
        registry.register("webhook_deliveries", "Webhook deliveries in the log by status", deliveries);
        registry.register("data_requests", "Data requests by status", requests);
        let read_at = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        read_at.set(snapshot.read_at.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()));
        registry.register("queue_gauges_read_timestamp_seconds", "When the job, delivery and data request gauges were read from the database", read_at);
    }
    drop(queues);
    let mut text = String::new();
    encode(&mut text, &registry).ok()?;
    Some(text)
}
