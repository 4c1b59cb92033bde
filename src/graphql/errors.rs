//! How errors reach users: every error carries `extensions.code`; internal causes are logged once
//! and replaced by a generic message with the request id.

use crate::error::AppError;
use async_graphql::{Error, ErrorExtensions, ServerError, Value};

/// The codes users can rely on (SPEC §4).
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const CONFLICT: &str = "CONFLICT";
    pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const INTERNAL: &str = "INTERNAL";
}

/// The message shown when the database is away or busy.
pub const UNAVAILABLE_MESSAGE: &str = "The service is briefly unavailable (its database is busy or restarting): retry after the time in Retry-After.";

/// The message shown for every internal error.
pub const INTERNAL_MESSAGE: &str = "Internal error. Quote the requestId when reporting it.";

fn with_path(message: String, code: &str, path: &[String]) -> Error {
    let path: Vec<Value> = path.iter().map(|p| Value::from(p.as_str())).collect();
    Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        e.set("inputPath", Value::List(path));
    })
}

impl From<AppError> for Error {
    fn from(err: AppError) -> Self {
        let coded = |message: String, code: &'static str| Error::new(message).extend_with(|_, e| e.set("code", code));
        match err {
            AppError::Unauthenticated => coded(
                "A valid API key is required: send `Authorization: Bearer wk_live_...`".into(),
                code::UNAUTHENTICATED,
            ),
            AppError::Forbidden(message) => coded(message, code::FORBIDDEN),
            AppError::NotFound { what, id, path } => with_path(format!("No {what} with id `{id}`"), code::NOT_FOUND, &path),
            AppError::BadUserInput(e) => with_path(format!("{}: {}", e.path.join("."), e.message), code::BAD_USER_INPUT, &e.path),
            AppError::Conflict(e) => with_path(format!("{}: {}", e.path.join("."), e.message), code::CONFLICT, &e.path),
            AppError::QueryTooComplex(message) => coded(message, code::QUERY_TOO_COMPLEX),
            AppError::Unavailable => coded(UNAVAILABLE_MESSAGE.into(), code::UNAVAILABLE),
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
                coded(INTERNAL_MESSAGE.into(), code::INTERNAL)
            }
        }
    }
}

/// An error raised outside any operation (e.g. authentication), without source locations.
pub fn request_level(err: AppError) -> ServerError {
    let err = Error::from(err);
    let mut server = ServerError::new(err.message, None);
    server.extensions = err.extensions;
    server
}

/// Gives `error` a code if it has none: errors from parsing, validation or argument coercion are
/// the caller's (`BAD_USER_INPUT`); anything else is internal, logged and hidden.
pub fn ensure_code(error: &mut ServerError, request_id: Option<&str>) {
    let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !has_code {
        let coercion = ["Failed to parse \"", "Expected input type \"", "Invalid value"].iter().any(|p| error.message.starts_with(p));
        if error.path.is_empty() || coercion {
            set(error, "code", code::BAD_USER_INPUT);
        } else {
            tracing::error!(error = %error.message, path = ?error.path, "unexpected resolver error");
            error.message = INTERNAL_MESSAGE.into();
            error.source = None;
            set(error, "code", code::INTERNAL);
        }
    }
    let internal = error.extensions.as_ref().and_then(|e| e.get("code")) == Some(&Value::from(code::INTERNAL));
    if let (true, Some(id)) = (internal, request_id) {
        set(error, "requestId", id);
    }
}

fn set(error: &mut ServerError, key: &str, value: &str) {
    error.extensions.get_or_insert_with(Default::default).set(key, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::InputError;

    fn code_of(err: AppError) -> (String, Option<Value>) {
        let server = Error::from(err).into_server_error(Default::default());
        let code = server.extensions.as_ref().and_then(|e| e.get("code").cloned());
        (server.message, code)
    }

    #[test]
    fn each_error_maps_to_its_code() {
        let cases = [
            (AppError::Unauthenticated, code::UNAUTHENTICATED),
            (AppError::Forbidden("no".into()), code::FORBIDDEN),
            (AppError::not_found("customer", "cust_x", "id"), code::NOT_FOUND),
            (AppError::BadUserInput(InputError::new("input.email", "bad")), code::BAD_USER_INPUT),
            (AppError::Conflict(InputError::new("input.email", "taken")), code::CONFLICT),
            (AppError::QueryTooComplex("big".into()), code::QUERY_TOO_COMPLEX),
            (AppError::Unavailable, code::UNAVAILABLE),
            (AppError::Internal(anyhow::anyhow!("relation \"customers\" does not exist")), code::INTERNAL),
        ];
        for (err, expected) in cases {
            let (_, code) = code_of(err);
            assert_eq!(code, Some(Value::from(expected)));
        }
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let (message, _) = code_of(AppError::Internal(anyhow::anyhow!("duplicate key value violates constraint")));
        assert_eq!(message, INTERNAL_MESSAGE);
    }

    #[test]
    fn bad_input_names_the_path() {
        let server = Error::from(AppError::BadUserInput(InputError::new("input.tags.1", "a tag must not be empty")))
            .into_server_error(Default::default());
        assert_eq!(server.message, "input.tags.1: a tag must not be empty");
        let path = server.extensions.unwrap().get("inputPath").cloned().unwrap();
        assert_eq!(path, Value::List(vec!["input".into(), "tags".into(), "1".into()]));
    }

    #[test]
    fn uncoded_resolver_errors_become_internal() {
        let mut err = ServerError::new("connection refused at 10.0.0.3", None);
        err.path = vec![async_graphql::PathSegment::Field("customers".into())];
        ensure_code(&mut err, Some("req-1"));
        assert_eq!(err.message, INTERNAL_MESSAGE);
        let ext = err.extensions.unwrap();
        assert_eq!(ext.get("code"), Some(&Value::from(code::INTERNAL)));
        assert_eq!(ext.get("requestId"), Some(&Value::from("req-1")));
    }

    #[test]
    fn argument_coercion_errors_are_the_callers() {
        let mut err = ServerError::new("Expected input type \"SortOrder\", found null.", None);
        err.path = vec![async_graphql::PathSegment::Field("customers".into())];
        ensure_code(&mut err, None);
        assert_eq!(err.extensions.unwrap().get("code"), Some(&Value::from(code::BAD_USER_INPUT)));
    }

    #[test]
    fn validation_errors_are_the_callers() {
        let mut err = ServerError::new("Unknown field \"nope\" on type \"Customer\".", None);
        ensure_code(&mut err, None);
        assert_eq!(err.extensions.unwrap().get("code"), Some(&Value::from(code::BAD_USER_INPUT)));
    }
}
