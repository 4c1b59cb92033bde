//! Data loaders for demos and benchmarks.

pub mod demo;
