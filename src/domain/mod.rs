//! The store's business vocabulary: typed ids and validated values, built once at the edge.
//! Nothing here knows about HTTP, GraphQL or the database.

pub mod activity;
pub mod address;
pub mod api_key;
pub mod btyd;
pub mod customer;
pub mod data_request;
pub mod export_csv;
pub mod email;
pub mod enrichment;
pub mod ids;
pub mod input_error;
pub mod metadata;
pub mod metrics;
pub mod money;
pub mod note;
pub mod nul;
pub mod phone;
pub mod rfm;
pub mod segment;
pub mod signing;
pub mod tags;
pub mod text;
pub mod webhook;

pub use input_error::InputError;
