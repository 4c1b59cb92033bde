//! The one error type users see. Data functions return `QueryResult`; flows that validate and write
//! return `AppError`; the GraphQL layer turns it into an error with `extensions.code`
//! (`graphql::errors`). Internal causes are logged once there and never shown.

use crate::domain::InputError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Everything a request can fail with, as the API reports it.
///
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type into
/// an error carrying its text, which would leak database messages. `graphql::errors` converts
/// this type explicitly instead.
#[derive(Debug)]
pub enum AppError {
    /// No key, or a key that is unknown or revoked.
    Unauthenticated,
    /// The key may not do this (e.g. a read-only key mutating).
    Forbidden(String),
    /// The thing does not exist in this store (or in no store: callers cannot tell).
    NotFound { what: &'static str, id: String, path: Vec<String> },
    /// The input is invalid.
    BadUserInput(InputError),
    /// The input conflicts with existing data.
    Conflict(InputError),
    /// The query exceeds a depth, complexity or size limit.
    QueryTooComplex(String),
    /// Anything else. The cause is logged, never shown.
    Internal(anyhow::Error),
}

impl AppError {
    /// A not-found error for the argument at `path`.
    pub fn not_found(what: &'static str, id: impl ToString, path: &str) -> Self {
        let path = path.split('.').map(str::to_owned).collect();
        Self::NotFound { what, id: id.to_string(), path }
    }

    /// An invalid-input error at `path`.
    pub fn bad_input(path: &str, message: impl Into<String>) -> Self {
        Self::BadUserInput(InputError::new(path, message))
    }
}

impl From<InputError> for AppError {
    fn from(err: InputError) -> Self {
        Self::BadUserInput(err)
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        Self::Internal(err.into())
    }
}

impl From<deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>> for AppError {
    fn from(err: deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>) -> Self {
        Self::Internal(anyhow::anyhow!("database pool: {err}"))
    }
}

/// Maps a violation of the named unique constraint to a conflict at `path`; other errors pass.
pub fn on_unique_violation(err: DieselError, constraint: &str, path: &str, message: &str) -> AppError {
    match &err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) if info.constraint_name() == Some(constraint) => {
            AppError::Conflict(InputError::new(path, message))
        }
        _ => err.into(),
    }
}
