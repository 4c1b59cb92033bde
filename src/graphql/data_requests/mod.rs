//! Data protection (SPEC §10): `requestDataRemoval`, `dataRequest`, `dataRequests`.

pub mod mutation;
pub mod query;
pub mod types;
