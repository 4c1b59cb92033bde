//! The integration suite: every test starts the real server on a free port, talks to it over
//! HTTP (or WebSocket) with real GraphQL documents, and works in a store of its own.

mod activity;
mod auth;
mod bad_input;
mod batching;
mod connections;
mod crash;
mod customers_create;
mod customers_list;
mod customers_update;
mod enrichment;
mod fairness;
mod faults;
mod fuzz;
mod data_requests;
mod helpers;
mod http;
mod idempotency;
mod isolation;
mod jobs;
mod leaf;
mod limits;
mod metrics;
mod notes;
mod proxy;
mod rate_limits;
mod schema;
mod seed;
mod segments;
mod subscriptions;
mod surface;
mod webhooks;
mod websocket;
