//! Notes on customers (SPEC §9): add, edit, delete, and `Customer.notes` pages.

pub mod connection;
pub mod mutation;
pub mod types;
