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
pub mod scalars;
pub mod segments;

use crate::config::LimitsConfig;
use data_requests::types::DownloadLinks;
use crate::db::DbPool;
use async_graphql::{EmptySubscription, MergedObject, Schema};

/// Every query of the API.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    customers::query::CustomerQuery,
    metrics::model::MetricsQuery,
    segments::query::SegmentQuery,
    data_requests::query::DataRequestQuery,
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
);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with its limits. The pool is shared data; per-request data (the key's
/// grant, DataLoaders) is attached to each request by `http`.
pub fn schema(pool: Option<DbPool>, links: Option<DownloadLinks>, limits: &LimitsConfig) -> AppSchema {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity);
    if let Some(pool) = pool {
        builder = builder.data(pool);
    }
    if let Some(links) = links {
        builder = builder.data(links.secret.clone()).data(links);
    }
    builder.finish()
}

/// The schema behind the request policy: what the transports execute.
pub fn api(pool: DbPool, links: DownloadLinks, limits: &LimitsConfig) -> policy::Api {
    policy::Api::new(schema(Some(pool), Some(links), limits), limits.clone())
}

/// The SDL of the schema, as committed in `schema.graphql`.
pub fn sdl() -> String {
    let limits = LimitsConfig { max_depth: 0, max_complexity: 0 };
    schema(None, None, &limits).sdl()
}
