//! The HTTP surface: `/graphql` (GraphQL over HTTP, GraphiQL for browsers), `/graphql/ws`
//! (graphql-transport-ws and legacy graphql-ws), `/downloads/{id}`, `/healthz`, `/readyz`,
//! `/metrics`; and the listener serving them.

pub mod auth;
mod downloads;
mod graphql;
mod health;
pub mod idempotency;
pub mod listener;
pub mod metrics;
pub mod ws;

use crate::config::{HttpConfig, ServerSecret};
use crate::db::DbPool;
use crate::graphql::policy::Api;
use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
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
}

/// The application's router.
pub fn router(state: AppState, http: &HttpConfig) -> Router {
    let router = Router::new()
        .route("/graphql", get(graphql::get_graphql).post(graphql::post_graphql))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/downloads/{id}", get(downloads::download))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
        .layer(TraceLayer::new_for_http());
    match cors(&http.cors_origins) {
        Some(layer) => router.layer(layer),
        None => router,
    }
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
            .max_age(Duration::from_secs(3600)),
    )
}
