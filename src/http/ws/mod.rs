//! `/graphql/ws`: graphql-transport-ws and the legacy graphql-ws protocol. The key comes from
//! the `connection_init` payload (`{"Authorization": "Bearer wk_live_..."}`) or, for clients that
//! can set headers, from the upgrade request. Messages are limited to the HTTP body limit.

mod protocol;
pub mod session;

use super::AppState;
use super::auth::bearer;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::Protocol;

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    let Some(protocol) = Protocol::requested(&headers) else {
        let message = "ask for the graphql-transport-ws (or legacy graphql-ws) protocol in Sec-WebSocket-Protocol";
        return (StatusCode::BAD_REQUEST, message).into_response();
    };
    let header_key = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer).map(str::to_owned);
    let shared = state.sessions.clone();
    ws.protocols([protocol.name()])
        .max_message_size(state.max_body_bytes)
        .max_frame_size(state.max_body_bytes)
        .on_upgrade(move |socket| session::serve(socket, protocol, shared, header_key))
}
