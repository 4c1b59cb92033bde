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
    /// The database is away or every connection the request may use stayed busy: try again
    /// shortly (HTTP 503 with `Retry-After`).
    Unavailable,
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
        match database_fault(&err) {
            Some(Fault::Away) => {
                tracing::warn!(error = %err, "database unavailable");
                Self::Unavailable
            }
            Some(Fault::TooSlow) => Self::QueryTooComplex("the request's database work took too long; ask for less at once".into()),
            None => Self::Internal(err.into()),
        }
    }
}

impl From<deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>> for AppError {
    fn from(err: deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>) -> Self {
        tracing::warn!(error = %err, "database pool unavailable");
        Self::Unavailable
    }
}

impl From<crate::db::gate::Unavailable> for AppError {
    fn from(err: crate::db::gate::Unavailable) -> Self {
        tracing::warn!(error = %err, "no database connection for the request");
        Self::Unavailable
    }
}

/// What went wrong with the database itself, rather than with a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection broke or the server is restarting, starting or shutting down.
    Away,
    /// The statement ran past `statement_timeout`.
    TooSlow,
}

/// Classifies a database error that is not the statement's fault. (diesel-async reports a
/// connection that broke as `UnableToSendCommand` or `ClosedConnection`; the server's own
/// SQLSTATEs for shutting down and timing out are not exposed, so their messages are matched.)
pub fn database_fault(err: &DieselError) -> Option<Fault> {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection, _) => Some(Fault::Away),
        DieselError::BrokenTransactionManager => Some(Fault::Away),
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            const AWAY: [&str; 5] = [
                "terminating connection",
                "the database system is starting up",
                "the database system is shutting down",
                "the database system is in recovery mode",
                "connection to server",
            ];
            if message.starts_with("canceling statement due to statement timeout") {
                Some(Fault::TooSlow)
            } else if AWAY.iter().any(|a| message.starts_with(a)) {
                Some(Fault::Away)
            } else {
                None
            }
        }
        _ => None,
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
