//! Background work. For now one supervised tokio task keeps the metrics state current; the
//! durable job system (PostgreSQL-backed, SKIP LOCKED) arrives with data protection and takes
//! this over.

pub mod metrics;
