//! The HTTP surface: `/graphql` (GraphQL over HTTP, GraphiQL for browsers when enabled),
//! `/graphql/ws` (graphql-transport-ws and legacy graphql-ws), `/downloads/{id}`, `/healthz`,
//! `/readyz`, `/metrics`, `/graphiql/assets/{file}`. Every response carries `x-request-id` and
//! `X-Content-Type-Options: nosniff`, and `Cache-Control: no-store` unless its handler allows
//! caching (only GraphiQL's assets do): API answers hold personal data. The listener serving
//! them is `listener`.

pub mod auth;
mod downloads;
mod graphiql;
mod graphql;
mod health;
pub mod idempotency;
pub mod listener;
pub mod metrics;
pub mod request_id;
pub mod ws;

use crate::config::{HttpConfig, ServerSecret};
use crate::db::DbPool;
use crate::graphql::policy::Api;
use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub api: Api,
    pub pool: DbPool,
    /// Grants of the keys seen recently.
    pub keys: auth::KeyCache,
    /// What WebSocket sessions share.
    pub sessions: ws::session::Shared,
    pub max_body_bytes: usize,
    /// How long an idempotency key stays claimed by a request that never answers.
    pub idempotency_lease: Duration,
    pub secret: ServerSecret,
    pub metrics: metrics::HttpMetrics,
    /// Required of `/metrics` scrapers when set.
    pub metrics_token: Option<String>,
    /// Whether `/metrics` answers without a token when none is set.
    pub metrics_open: bool,
    /// Whether browsers get GraphiQL at `/graphql`.
    pub graphiql: bool,
}

/// The application's router.
pub fn router(state: AppState, http: &HttpConfig) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql::get_graphql).post(graphql::post_graphql))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/downloads/{id}", get(downloads::download))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics));
    if state.graphiql {
        router = router.route(&format!("{}/{{file}}", graphiql::ASSETS_PATH), get(graphiql::asset));
    }
    let router = router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
        .layer(TraceLayer::new_for_http());
    let router = match cors(&http.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    };
    router
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(axum::middleware::from_fn(request_id::layer))
}

/// CORS for browser front-ends: the configured origins (or any, for `*`) may send the
/// `Authorization` header. Keys are bearer tokens, never cookies, so no credentials mode.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            // so front-ends can read them
            .expose_headers([request_id::X_REQUEST_ID, header::RETRY_AFTER])
            .max_age(Duration::from_secs(3600)),
    )
}
