//! Customers (SPEC §5): profile types, create/update/delete, lookups and the searchable list.

pub mod connection;
pub mod enrichment;
pub mod inputs;
pub mod mutation;
pub mod query;
pub mod types;
