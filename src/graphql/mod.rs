//! The GraphQL API: one `schema()` built from per-area query and mutation objects, wrapped by
//! the request policy (limits, cost, rate limits, read-only keys, error codes) in `policy`.

pub mod activity;
pub mod batches;
pub mod context;
pub mod cost;
pub mod customers;
pub mod data_requests;
pub mod errors;
pub mod input_guard;
pub mod leaf;
pub mod loaders;
pub mod metrics;
pub mod notes;
pub mod pagination;
pub mod policy;
pub mod prefetch;
pub mod query_text;
pub mod scalars;
pub mod segments;
pub mod throttle;
pub mod webhooks;

use crate::config::{LimitsConfig, ServerSecret, WebhooksConfig};
use crate::db::gate::Gate;
use crate::domain::data_request::DownloadLinks;
use async_graphql::{MergedObject, MergedSubscription, Schema};
use data_requests::subscription::DataRequestChanges;

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    customers::query::CustomerQuery,
    metrics::model::MetricsQuery,
    segments::query::SegmentQuery,
    data_requests::query::DataRequestQuery,
    webhooks::query::WebhookQuery,
);

/// Every mutation of the API. Read-only keys may not run any of them.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    customers::mutation::CustomerMutation,
    activity::mutation::ActivityMutation,
    notes::mutation::NoteMutation,
    metrics::model::MetricsMutation,
    segments::mutation::SegmentMutation,
    data_requests::mutation::DataRequestMutation,
    webhooks::mutation::WebhookMutation,
);

/// Every subscription of the API (over `/graphql/ws`).
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(data_requests::subscription::DataRequestSubscription);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// What every resolver may use, besides the request's own data (the key's grant, DataLoaders),
/// which `http` attaches to each request.
#[derive(Clone)]
pub struct Shared {
    /// The pool, shared fairly: requests take connections through their lease.
    pub gate: Gate,
    pub links: DownloadLinks,
    pub webhooks: WebhooksConfig,
    pub data_request_changes: DataRequestChanges,
}

/// Builds the schema with its shared data. (Depth and cost are limited by the policy, before
/// the schema sees a request.)
pub fn schema(shared: Option<Shared>) -> AppSchema {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default());
    if let Some(shared) = shared {
        builder = builder
            .data(shared.gate)
            .data(ServerSecret(shared.links.secret.clone()))
            .data(shared.links)
            .data(shared.webhooks)
            .data(shared.data_request_changes);
    }
    builder.finish()
}

/// The schema behind the request policy: what the transports execute.
pub fn api(shared: Shared, limits: &LimitsConfig, throttle: throttle::Throttle, timeout: std::time::Duration) -> policy::Api {
    let gate = shared.gate.clone();
    policy::Api::new(schema(Some(shared)), limits.clone(), throttle, gate, timeout)
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema(None).sdl()
}
