//! Segments (SPEC §8): dynamic segments from rules, static segments with explicit members.

pub mod inputs;
pub mod mutation;
pub mod query;
pub mod types;
