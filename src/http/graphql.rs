//! `/graphql` following the GraphQL over HTTP spec: POST with `application/json`; GET for
//! queries only (405 for mutations); `application/graphql-response+json` when accepted, with 4xx
//! statuses for request errors; `application/json` (always 200) otherwise; GraphiQL for browsers.

use super::AppState;
use super::auth::{authenticate, bearer};
use crate::db::statements;
use crate::error::AppError;
use crate::graphql::context::RequestContext;
use crate::graphql::errors::{code, request_level};
use crate::graphql::batches::Batches;
use crate::graphql::loaders::Loaders;
use crate::graphql::policy::operation_type;
use async_graphql::Executor;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::OperationType;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `GET /graphql`: GraphiQL for a browser asking for HTML, otherwise a query in the URL.
pub async fn get_graphql(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let query_string = uri.query().unwrap_or("");
    if query_string.is_empty() && accepts(&headers, "text/html") {
        return Html(GraphiQLSource::build().endpoint("/graphql").subscription_endpoint("/graphql/ws").title("Whale CRM").finish())
            .into_response();
    }
    let request = match async_graphql::http::parse_query_string(query_string) {
        Ok(request) => request,
        Err(_) => return request_error(StatusCode::BAD_REQUEST, "the URL does not hold a GraphQL request (`?query=...`)", code::BAD_USER_INPUT),
    };
    if operation_of(&request) == Some(OperationType::Mutation) {
        let mut response = request_error(StatusCode::METHOD_NOT_ALLOWED, "mutations must be sent with POST", code::BAD_USER_INPUT);
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(state, headers, request).await
}

/// `POST /graphql` with a JSON body `{query, operationName, variables}`.
pub async fn post_graphql(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.trim_start().to_ascii_lowercase().starts_with("application/json") {
        return request_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the request as Content-Type: application/json", code::BAD_USER_INPUT);
    }
    let Ok(bytes) = to_bytes(body, state.max_body_bytes).await else {
        let message = format!("the request body is larger than {} bytes", state.max_body_bytes);
        return request_error(StatusCode::PAYLOAD_TOO_LARGE, &message, code::QUERY_TOO_COMPLEX);
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(request) => request,
        Err(_) => {
            let message = "the body is not a GraphQL request: expected JSON {\"query\": ..., \"variables\": {...}}";
            return request_error(StatusCode::BAD_REQUEST, message, code::BAD_USER_INPUT);
        }
    };
    execute(state, headers, request).await
}

/// The type of the operation the request would run (`None` if it does not parse or is ambiguous).
fn operation_of(request: &async_graphql::Request) -> Option<OperationType> {
    async_graphql::parser::parse_query(&request.query).ok().and_then(|doc| operation_type(&doc, request.operation_name.as_deref()))
}

async fn execute(state: AppState, headers: HeaderMap, request: async_graphql::Request) -> Response {
    // (parsed here only when it may be one: every other request is parsed once, by the executor)
    if request.query.contains("subscription") && operation_of(&request) == Some(OperationType::Subscription) {
        let message = "subscriptions run over the WebSocket at /graphql/ws (graphql-transport-ws or graphql-ws)";
        return request_error(StatusCode::BAD_REQUEST, message, code::BAD_USER_INPUT);
    }
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let span = tracing::info_span!("graphql", request_id = %request_id, store = tracing::field::Empty);
    async move {
        let key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
        let grant = match authenticate(&state.pool, key).await {
            Ok(grant) => grant,
            Err(err) => return unauthenticated_or_internal(err, &request_id),
        };
        tracing::Span::current().record("store", tracing::field::display(grant.store_id));
        let batches = Batches::default();
        let loaders = Loaders::for_request(&state.pool, grant.store_id, &batches);
        let request = request.data(RequestContext { grant, request_id: request_id.clone() }).data(loaders);
        let statements = Arc::new(AtomicU64::new(0));
        let execution = statements::counted(statements.clone(), batches.drive(state.api.execute(request)));
        let response = match tokio::time::timeout(state.query_timeout, execution).await {
            Ok(mut response) => {
                let count = statements.load(Ordering::Relaxed);
                tracing::debug!(sql_statements = count, "executed");
                if wants_debug(&headers, "sql") {
                    response.extensions.insert("sqlStatements".into(), async_graphql::Value::from(count));
                }
                response
            }
            Err(_) => {
                let message = format!("the request took longer than {} s", state.query_timeout.as_secs());
                return request_error(StatusCode::SERVICE_UNAVAILABLE, &message, code::QUERY_TOO_COMPLEX);
            }
        };
        respond(&headers, response, &request_id)
    }
    .instrument(span)
    .await
}

fn unauthenticated_or_internal(err: AppError, request_id: &str) -> Response {
    match err {
        AppError::Unauthenticated => {
            let error = request_level(err);
            let mut response = json_response(StatusCode::UNAUTHORIZED, "application/json", json!({ "errors": [error] }));
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        other => {
            let mut error = request_level(other);
            error.extensions.get_or_insert_with(Default::default).set("requestId", request_id);
            json_response(StatusCode::INTERNAL_SERVER_ERROR, "application/json", json!({ "errors": [error] }))
        }
    }
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

/// Writes a GraphQL response; with `application/graphql-response+json` a request error is a 4xx.
fn respond(headers: &HeaderMap, response: async_graphql::Response, request_id: &str) -> Response {
    let request_failed =
        response.data == async_graphql::Value::Null && !response.errors.is_empty() && response.errors.iter().all(|e| e.path.is_empty());
    let body = ResponseBody { errors: &response.errors, data: (!request_failed).then_some(&response.data), extensions: &response.extensions };
    let (status, content_type) = if accepts(headers, GRAPHQL_RESPONSE_JSON) {
        let forbidden = response.errors.iter().any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&code::FORBIDDEN.into()));
        let status = match (request_failed, forbidden) {
            (false, _) => StatusCode::OK,
            (true, true) => StatusCode::FORBIDDEN,
            (true, false) => StatusCode::BAD_REQUEST,
        };
        (status, GRAPHQL_RESPONSE_JSON)
    } else {
        (StatusCode::OK, "application/json")
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"errors":[{"message":"unserialisable response"}]}"#.to_vec());
    let mut out = (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], bytes).into_response();
    if let Ok(id) = HeaderValue::from_str(request_id) {
        out.headers_mut().insert("x-request-id", id);
    }
    out
}

fn request_error(status: StatusCode, message: &str, code: &str) -> Response {
    json_response(status, "application/json", json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }))
}

fn json_response(status: StatusCode, content_type: &'static str, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))], body.to_string()).into_response()
}

/// Whether the request asked for a diagnostic with `Whale-Debug: <what>[, ...]`.
fn wants_debug(headers: &HeaderMap, what: &str) -> bool {
    headers.get_all("whale-debug").iter().filter_map(|v| v.to_str().ok()).any(|v| v.split(',').any(|w| w.trim().eq_ignore_ascii_case(what)))
}

fn accepts(headers: &HeaderMap, media_type: &str) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| v.to_ascii_lowercase().contains(media_type))
}
