//! The two GraphQL-over-WebSocket protocols: `graphql-transport-ws` (the graphql-ws library's)
//! and the legacy `graphql-ws` (subscriptions-transport-ws). Client messages are read with
//! async-graphql's parser; server messages are written here, with the close codes the
//! protocols define.

use async_graphql::Response;
use axum::http::HeaderMap;
use serde_json::{Value, json};

/// Which protocol a socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`.
    TransportWs,
    /// `graphql-ws` (subscriptions-transport-ws).
    Legacy,
}

/// Close codes.
pub mod close {
    /// A message the protocol does not allow (graphql-transport-ws 4400).
    pub const BAD_REQUEST: u16 = 4400;
    /// An operation before the connection was acknowledged.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The key is missing, invalid or revoked.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// An operation id already in use.
    pub const DUPLICATE_ID: u16 = 4409;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
    /// The server cannot reach its database now: try again later (RFC 6455's 1013).
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

impl Protocol {
    /// The protocol the client asked for in `Sec-WebSocket-Protocol` (the first we speak).
    pub fn requested(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all("sec-websocket-protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| match p.trim() {
                "graphql-transport-ws" => Some(Self::TransportWs),
                "graphql-ws" => Some(Self::Legacy),
                _ => None,
            })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }

    /// A result of operation `id`.
    pub fn next(self, id: &str, response: &Response) -> String {
        let kind = match self {
            Self::TransportWs => "next",
            Self::Legacy => "data",
        };
        json!({ "type": kind, "id": id, "payload": response }).to_string()
    }

    /// Operation `id` refused before it ran (graphql-transport-ws `error`, legacy `error`).
    pub fn error(self, id: &str, message: &str, code: &str) -> String {
        let error = json!({ "message": message, "extensions": { "code": code } });
        let payload = match self {
            Self::TransportWs => json!([error]),
            Self::Legacy => error,
        };
        json!({ "type": "error", "id": id, "payload": payload }).to_string()
    }

    /// Operation `id` is over.
    pub fn complete(id: &str) -> String {
        json!({ "type": "complete", "id": id }).to_string()
    }

    pub fn ack() -> String {
        json!({ "type": "connection_ack" }).to_string()
    }

    /// The answer to a client's ping (graphql-transport-ws).
    pub fn pong(payload: Option<Value>) -> String {
        match payload {
            Some(payload) => json!({ "type": "pong", "payload": payload }),
            None => json!({ "type": "pong" }),
        }
        .to_string()
    }

    /// What keeps an idle connection alive: a ping, or the legacy protocol's `ka`.
    pub fn keepalive(self) -> String {
        match self {
            Self::TransportWs => json!({ "type": "ping" }),
            Self::Legacy => json!({ "type": "ka" }),
        }
        .to_string()
    }

    /// The legacy protocol's refusal of `connection_init` (sent before closing).
    pub fn connection_error(message: &str, code: &str) -> String {
        json!({ "type": "connection_error", "payload": { "message": message, "extensions": { "code": code } } }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_protocol_it_speaks() {
        let mut headers = HeaderMap::new();
        headers.insert("sec-websocket-protocol", "chat, graphql-transport-ws, graphql-ws".parse().unwrap());
        assert_eq!(Protocol::requested(&headers), Some(Protocol::TransportWs));
        headers.insert("sec-websocket-protocol", "graphql-ws".parse().unwrap());
        assert_eq!(Protocol::requested(&headers), Some(Protocol::Legacy));
        headers.insert("sec-websocket-protocol", "chat".parse().unwrap());
        assert_eq!(Protocol::requested(&headers), None);
    }

    #[test]
    fn results_are_named_as_each_protocol_names_them() {
        let response = Response::new(async_graphql::Value::Null);
        assert!(Protocol::TransportWs.next("1", &response).contains("\"next\""));
        assert!(Protocol::Legacy.next("1", &response).contains("\"data\""));
        assert!(Protocol::TransportWs.error("1", "no", "RATE_LIMITED").contains("[{"));
    }
}
