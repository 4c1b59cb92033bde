//! `x-request-id` on every response, whatever answered it (GraphQL, a 401, `/healthz`, a 404, a
//! CORS preflight): one layer around the whole router gives each request an id — the caller's
//! own `x-request-id` when it is a plain token of at most 64 characters, otherwise a new UUID —
//! puts it in the request's extensions for handlers (logs, `extensions.requestId` of internal
//! errors) and on the response.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::convert::Infallible;

/// The header, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The caller's id if it is fit to log and repeat, else a new one.
    fn for_request(sent: Option<&HeaderValue>) -> Self {
        let sent = sent.and_then(|v| v.to_str().ok()).filter(|id| {
            (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        });
        Self(sent.map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned))
    }
}

/// The layer's function (`axum::middleware::from_fn`).
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = RequestId::for_request(request.headers().get(&X_REQUEST_ID));
    let value = HeaderValue::from_str(&id.0).expect("an id of plain characters");
    request.headers_mut().insert(X_REQUEST_ID, value.clone());
    request.extensions_mut().insert(id);
    let mut response = next.run(request).await;
    response.headers_mut().insert(X_REQUEST_ID, value);
    response
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    /// The layer's id (a new one outside the layer, as in a router built without it).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Self>().cloned().unwrap_or_else(|| Self::for_request(None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_ids_are_kept_when_plain() {
        let id = |s: &str| RequestId::for_request(Some(&HeaderValue::from_str(s).unwrap())).0;
        assert_eq!(id("trace-1234_ab.c:d"), "trace-1234_ab.c:d");
        assert_ne!(id("with space"), "with space");
        assert_ne!(id(&"x".repeat(65)), "x".repeat(65));
        assert_eq!(RequestId::for_request(None).0.len(), 32);
    }
}
