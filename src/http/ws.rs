//! `/graphql/ws`: graphql-transport-ws and the legacy graphql-ws protocol. The key comes from
//! the `connection_init` payload (`{"Authorization": "Bearer wk_live_..."}`) or, for clients that
//! can set headers, from the upgrade request; without a valid one the connection is closed.

use super::AppState;
use super::auth::{authenticate, bearer};
use crate::graphql::context::RequestContext;
use crate::graphql::loaders::Loaders;
use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::Response;

pub async fn upgrade(State(state): State<AppState>, protocol: GraphQLProtocol, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let header_key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).map(str::to_owned);
    ws.protocols(ALL_WEBSOCKET_PROTOCOLS).on_upgrade(move |socket| async move {
        let api = state.api.clone();
        GraphQLWebSocket::new(socket, api, protocol)
            .on_connection_init(move |payload| async move {
                let key = payload_key(&payload).or(header_key);
                let grant = authenticate(&state.pool, key.as_deref())
                    .await
                    .map_err(|_| async_graphql::Error::new("UNAUTHENTICATED: a valid API key is required in the connection_init payload"))?;
                let mut data = Data::default();
                data.insert(Loaders::spawning(&state.pool, grant.store_id));
                data.insert(RequestContext { grant, request_id: uuid::Uuid::new_v4().simple().to_string() });
                Ok(data)
            })
            .serve()
            .await
    })
}

/// The key in a `connection_init` payload: `Authorization` (any case) as `Bearer <key>` or bare.
fn payload_key(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let value = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).and_then(|(_, v)| v.as_str())?;
    Some(bearer(value).unwrap_or(value).to_owned())
}
