//! `/graphql` following the GraphQL over HTTP spec: POST with `application/json`; GET for
//! queries only (405 for mutations); `application/graphql-response+json` when accepted, with 4xx
//! statuses for request errors; `application/json` (always 200) otherwise; GraphiQL for browsers
//! (`graphiql`) when it is enabled.
//! Whatever the media type, a rate-limited request is 429 and a database outage 503, both with
//! `Retry-After`. The key is checked before anything of the request is parsed but its JSON. A
//! POST may carry an `Idempotency-Key` (`idempotency`).

use super::AppState;
use super::graphiql;
use super::request_id::RequestId;
use super::auth::bearer;
use super::idempotency;
use crate::db::idempotency::{Claim, Recorded};
use crate::graphql::context::{RequestContext, Transport};
use crate::graphql::errors::{code, request_level};
use crate::graphql::policy::{Executed, Refusal, UNAVAILABLE_RETRY_AFTER_SECS};
use crate::error::AppError;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing::Instrument;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// A GraphQL request in a URL's query string.
#[derive(Deserialize)]
struct GetRequest {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    /// JSON text.
    variables: Option<String>,
}

/// `GET /graphql`: GraphiQL for a browser asking for HTML (when enabled), otherwise a query in
/// the URL.
pub async fn get_graphql(State(state): State<AppState>, request_id: RequestId, headers: HeaderMap, uri: Uri) -> Response {
    let query_string = uri.query().unwrap_or("");
    if state.graphiql && query_string.is_empty() && accepts(&headers, "text/html") {
        return graphiql::page(&headers);
    }
    let bad = || request_error(StatusCode::BAD_REQUEST, "the URL does not hold a GraphQL request (`?query=...&variables=<JSON>`)", code::BAD_USER_INPUT);
    let Ok(get) = serde_urlencoded::from_str::<GetRequest>(query_string) else { return bad() };
    let variables = match get.variables.as_deref().map(serde_json::from_str::<serde_json::Value>).transpose() {
        Ok(variables) => variables.map(async_graphql::Variables::from_json).unwrap_or_default(),
        Err(_) => return bad(),
    };
    let mut request = async_graphql::Request::new(get.query).variables(variables);
    request.operation_name = get.operation_name;
    execute(state, request_id, headers, request, Transport::HttpGet, None).await
}

/// `POST /graphql` with a JSON body `{query, operationName, variables}`.
pub async fn post_graphql(State(state): State<AppState>, request_id: RequestId, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !is_json(content_type) {
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the request as Content-Type: application/json", code::BAD_USER_INPUT);
    }
    let bytes = match to_bytes(body, state.max_body_bytes).await {
        Ok(bytes) => bytes,
        Err(err) if super::listener::is_body_timeout(&err) => {
            return request_error(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time", code::BAD_USER_INPUT);
        }
        Err(_) => {
            let message = format!("the request body is larger than {} bytes", state.max_body_bytes);
            return request_error(StatusCode::PAYLOAD_TOO_LARGE, &message, code::QUERY_TOO_COMPLEX);
        }
    };
    // (serde_json refuses JSON nested deeper than 128 levels without recursing further)
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(_) => {
            let message = "the body is not a GraphQL request: expected JSON {\"query\": ..., \"variables\": {...}}";
            return request_error(StatusCode::BAD_REQUEST, message, code::BAD_USER_INPUT);
        }
    };
    execute(state, request_id, headers, request, Transport::HttpPost, Some(&bytes)).await
}

/// `application/json`, or a `+json` type (`application/graphql+json`), with any parameters.
fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Runs a request; `body` is the POST body, for `Idempotency-Key`.
async fn execute(
    state: AppState,
    RequestId(request_id): RequestId,
    headers: HeaderMap,
    request: async_graphql::Request,
    transport: Transport,
    body: Option<&[u8]>,
) -> Response {
    let span = tracing::info_span!("graphql", request_id = %request_id, store = tracing::field::Empty);
    async move {
        let key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
        let grant = match state.keys.authenticate(key).await {
            Ok(grant) => grant,
            Err(err) => return unauthenticated(err, &request_id),
        };
        tracing::Span::current().record("store", tracing::field::display(grant.store_id));
        let claimed = match (body, idempotency::key_of(&headers)) {
            (_, Err(message)) => return request_error(StatusCode::BAD_REQUEST, &message, code::BAD_USER_INPUT),
            (Some(body), Ok(Some(key))) => match idempotency::claim(&state.pool, grant.store_id, key, body, state.idempotency_lease).await {
                Ok(Ok(claimed)) => Some(claimed),
                Ok(Err(answer)) => return unclaimed(answer),
                Err(err) => return unauthenticated(err, &request_id),
            },
            _ => None,
        };
        let mut executed = state.api.execute(RequestContext { grant, request_id: request_id.clone(), transport }, request).await;
        tracing::debug!(sql_statements = executed.statements, "executed");
        if wants_debug(&headers, "sql") {
            executed.response.extensions.insert("sqlStatements".into(), async_graphql::Value::from(executed.statements));
        }
        let ran = executed.operation == Some(OperationType::Mutation)
            && !matches!(executed.refusal, Some(Refusal::RateLimited { .. } | Refusal::Unavailable));
        let rendered = render(&headers, executed);
        match (claimed, body) {
            (Some(claimed), Some(body)) if ran => claimed.record(&rendered.recorded(), body).await,
            (Some(claimed), _) => claimed.release().await,
            _ => {}
        }
        rendered.into_response()
    }
    .instrument(span)
    .await
}

/// The answer to a request whose idempotency key was not its to claim.
fn unclaimed(answer: Claim) -> Response {
    let conflict = |message: &str| request_error(StatusCode::CONFLICT, message, code::CONFLICT);
    match answer {
        Claim::Replay(recorded) => {
            let mut response = (StatusCode::from_u16(recorded.status).unwrap_or(StatusCode::OK), recorded.body).into_response();
            if let Ok(content_type) = HeaderValue::from_str(&recorded.content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, content_type);
            }
            response.headers_mut().insert(idempotency::REPLAYED, HeaderValue::from_static("true"));
            response
        }
        Claim::Mismatch => conflict("this Idempotency-Key was used with another request body in the last 24 hours: use a new key for a new request"),
        Claim::InFlight | Claim::Claimed => conflict("a request with this Idempotency-Key is still running: retry once it has answered"),
    }
}

/// A request whose key did not authenticate: 401, or 503 when the keys could not be read.
fn unauthenticated(err: AppError, request_id: &str) -> Response {
    let (status, retry) = match err {
        AppError::Unauthenticated => (StatusCode::UNAUTHORIZED, false),
        AppError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, true),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, false),
    };
    let mut error = request_level(err);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        error.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
    }
    let mut response = json_response(status, "application/json", json!({ "errors": [error] }));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    if retry {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
    }
    response
}

/// A GraphQL response body, serialised straight from the executor's values. A request error
/// (nothing executed: no data, errors without path) carries no `data` entry.
#[derive(serde::Serialize)]
struct ResponseBody<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
}

/// A response ready to send (and to keep, for an idempotent replay).
struct Rendered {
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
    retry_after: Option<u64>,
    allow_post: bool,
}

impl Rendered {
    fn recorded(&self) -> Recorded {
        Recorded { status: self.status.as_u16(), content_type: self.content_type.to_owned(), body: String::from_utf8_lossy(&self.body).into_owned() }
    }

    fn into_response(self) -> Response {
        let mut out = (self.status, [(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type))], self.body).into_response();
        if let Some(secs) = self.retry_after {
            out.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.allow_post {
            out.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        out
    }
}

/// Writes a GraphQL response; with `application/graphql-response+json` a request error is a 4xx;
/// a refusal has its own status whatever the media type.
fn render(headers: &HeaderMap, executed: Executed) -> Rendered {
    let response = &executed.response;
    let request_failed =
        response.data == async_graphql::Value::Null && !response.errors.is_empty() && response.errors.iter().all(|e| e.path.is_empty());
    let body = ResponseBody { errors: &response.errors, data: (!request_failed).then_some(&response.data), extensions: &response.extensions };
    let graphql_response = accepts(headers, GRAPHQL_RESPONSE_JSON);
    let mut status = if graphql_response && request_failed {
        let forbidden = response.errors.iter().any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&code::FORBIDDEN.into()));
        if forbidden { StatusCode::FORBIDDEN } else { StatusCode::BAD_REQUEST }
    } else {
        StatusCode::OK
    };
    let mut retry_after = None;
    match executed.refusal {
        None => {}
        Some(Refusal::TooLarge) => status = StatusCode::PAYLOAD_TOO_LARGE,
        Some(Refusal::MethodNotAllowed) => status = StatusCode::METHOD_NOT_ALLOWED,
        Some(Refusal::RateLimited { retry_after_secs }) => {
            status = StatusCode::TOO_MANY_REQUESTS;
            retry_after = Some(retry_after_secs);
        }
        Some(Refusal::Unavailable) => {
            status = StatusCode::SERVICE_UNAVAILABLE;
            retry_after = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        }
        Some(Refusal::TimedOut) => status = StatusCode::SERVICE_UNAVAILABLE,
    }
    let content_type = if graphql_response { GRAPHQL_RESPONSE_JSON } else { "application/json" };
    let body = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"errors":[{"message":"unserialisable response"}]}"#.to_vec());
    Rendered { status, content_type, body, retry_after, allow_post: executed.refusal == Some(Refusal::MethodNotAllowed) }
}

fn request_error(status: StatusCode, message: &str, code: &str) -> Response {
    json_response(status, "application/json", json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

fn json_response(status: StatusCode, content_type: &'static str, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body.to_string()).into_response()
}

/// Whether the request asked for a diagnostic with `Whale-Debug: <what>[, ...]`.
pub(super) fn wants_debug(headers: &HeaderMap, what: &str) -> bool {
    headers.get_all("whale-debug").iter().filter_map(|v| v.to_str().ok()).any(|v| v.split(',').any(|w| w.trim().eq_ignore_ascii_case(what)))
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.to_ascii_lowercase().contains(media_type))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn only_json_media_types_are_taken() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/graphql+json"));
        assert!(!is_json("application/jsonp"));
        assert!(!is_json("application/json-seq"));
        assert!(!is_json("text/plain"));
        assert!(!is_json(""));
    }
}
