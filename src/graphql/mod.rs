//! The GraphQL API: one `schema()` built from per-area query and mutation objects, wrapped by
//! the request policy (read-only keys, limits, error codes) in `policy`.

pub mod activity;
pub mod batches;
pub mod context;
pub mod customers;
pub mod data_requests;
pub mod errors;
pub mod leaf;
pub mod loaders;
pub mod metrics;
pub mod notes;
pub mod pagination;
pub mod policy;
pub mod prefetch;
pub mod scalars;
pub mod segments;
pub mod webhooks;

use crate::config::{LimitsConfig, ServerSecret, WebhooksConfig};
use crate::db::DbPool;
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
    pub pool: DbPool,
    pub links: DownloadLinks,
    pub webhooks: WebhooksConfig,
    pub data_request_changes: DataRequestChanges,
}

/// Builds the schema with its limits and shared data.
pub fn schema(shared: Option<Shared>, limits: &LimitsConfig) -> AppSchema {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), SubscriptionRoot::default())
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
    if let Some(shared) = shared {
        builder = builder
            .data(shared.pool)
            .data(ServerSecret(shared.links.secret.clone()))
            .data(shared.links)
            .data(shared.webhooks)
            .data(shared.data_request_changes);
    }
    builder.finish()
}

/// The schema behind the request policy: what the transports execute.
pub fn api(shared: Shared, limits: &LimitsConfig) -> policy::Api {
    policy::Api::new(schema(Some(shared), limits), limits.clone())
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let limits = LimitsConfig { max_depth: 0, max_complexity: 0 };
    schema(None, &limits).sdl()
}
