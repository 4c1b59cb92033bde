//! Whale CRM: a GraphQL customer CRM for online stores.
//!
//! Dependencies point one way: `http → graphql → domain ← db`.

pub mod bench;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod notifications;
pub mod seed;
pub mod server;
