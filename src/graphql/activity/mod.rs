//! The activity timeline (SPEC §6): event types sharing the `ActivityEvent` interface, recording
//! (single and batch, idempotent on `externalId`) and `Customer.activity` pages.

pub mod connection;
pub mod inputs;
pub mod mutation;
pub mod types;
