//! Data protection (SPEC §10): `requestDataRemoval`, `dataRequest`, `dataRequests`, and the
//! `dataRequestCompleted` and `dataRequestUpdated` subscriptions.

pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;
