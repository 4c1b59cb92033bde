//! The data layer: the connection pool, embedded migrations and one module of queries per table.
//! Every query function takes the store it acts for, so no caller can forget tenancy.

pub mod activity;
pub mod addresses;
pub mod api_keys;
pub mod bulk;
pub mod customer_list;
pub mod customers;
pub mod enrichment;
pub mod data_requests;
pub mod exports;
pub mod gate;
pub mod idempotency;
pub mod job_claims;
pub mod jobs;
pub mod json_text;
pub mod metrics;
pub mod migrate;
pub mod notes;
pub mod pool;
pub mod queue_counts;
pub mod prepared;
pub mod rate_limits;
pub mod schema;
pub mod segment_sql;
pub mod segments;
pub mod statements;
pub mod stores;
pub mod webhooks;

pub use pool::{DbPool, connect_pool};
