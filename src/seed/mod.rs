//! Data loaders for demos and benchmarks.

pub mod bulk;
pub mod demo;
pub mod history;
pub mod people;
pub mod showcase;
