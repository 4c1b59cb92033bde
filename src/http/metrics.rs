//! `GET /metrics`: Prometheus metrics in the OpenMetrics text format — HTTP requests by route and
//! status with their durations (counted by a middleware around every route), and, read when
//! scraped, the connection pool, the job queue, webhook deliveries and open data requests. Only
//! totals across stores: no store's data. With `WHALE_METRICS_TOKEN` set, scrapes must send it
//! as a bearer token.

use super::AppState;
use super::auth::bearer;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::time::Instant;
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

/// The counters kept between scrapes.
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            // 1 ms to ~16 s
            durations: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15))),
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

#[derive(diesel::QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The scrape.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let sent = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(token.as_bytes())) {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a metrics token is required\n").into_response();
        }
    }
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

    // the shared state, as the database has it (the same on every instance)
    if let Ok(counts) = shared_counts(&state).await {
        let jobs = Family::<JobLabels, Gauge>::default();
        let deliveries = Family::<StatusLabels, Gauge>::default();
        let requests = Family::<StatusLabels, Gauge>::default();
        for c in counts {
            match c.kind.as_str() {
                "webhook_delivery" => deliveries.get_or_create(&StatusLabels { status: c.state }).set(c.n),
                "data_request" => requests.get_or_create(&StatusLabels { status: c.state }).set(c.n),
                _ => jobs.get_or_create(&JobLabels { kind: c.kind, state: c.state }).set(c.n),
            };
        }
        registry.register("jobs", "Jobs in the queue by kind and state (finished ones until pruned)", jobs);
        registry.register("webhook_deliveries", "Webhook deliveries in the log by status", deliveries);
        registry.register("data_requests", "Data requests by status", requests);
    }
    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = Response::new(Body::from(text));
    response.headers_mut().insert(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8".parse().expect("a valid header"));
    response
}

async fn shared_counts(state: &AppState) -> anyhow::Result<Vec<Counted>> {
    let mut conn = state.pool.get().await?;
    let counts = diesel::sql_query(
        "SELECT kind, state, count(*) AS n FROM jobs GROUP BY kind, state \
         UNION ALL SELECT 'webhook_delivery', status, count(*) FROM webhook_deliveries GROUP BY status \
         UNION ALL SELECT 'data_request', status, count(*) FROM data_requests GROUP BY status",
    )
    .load(&mut conn)
    .await?;
    Ok(counts)
}
