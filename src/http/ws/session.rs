//! One WebSocket connection: `connection_init` within a few seconds, the key checked then and
//! again for every operation, each operation on a task of its own (queries and mutations under
//! the same policy and timeout as over HTTP), at most so many subscriptions per connection and
//! per store, and the socket closed with 4403 as soon as its key is revoked anywhere.

use super::protocol::{Protocol, close};
use crate::db::api_keys::{KeyChange, KeyGrant};
use crate::domain::ids::StoreId;
use crate::error::AppError;
use crate::graphql::context::{RequestContext, Transport};
use crate::graphql::errors::code;
use crate::graphql::policy::Api;
use crate::http::auth::{KeyCache, bearer};
use async_graphql::http::ClientMessage;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::task::AbortHandle;

/// The limits of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a client has to send `connection_init`.
    pub init_timeout: Duration,
    /// Operations open at once on one connection.
    pub per_connection: usize,
    /// Subscriptions open at once for one store, on this instance.
    pub per_store: usize,
    /// How often an idle connection is pinged (`ka` in the legacy protocol).
    pub keepalive: Duration,
}

/// Subscriptions open per store, on this instance.
#[derive(Clone, Default)]
pub struct StoreSubscriptions(Arc<Mutex<HashMap<StoreId, usize>>>);

impl StoreSubscriptions {
    /// A slot for one more subscription of `store`, if it has fewer than `max`.
    fn take(&self, store: StoreId, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().expect("not poisoned");
        let count = open.entry(store).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot { open: self.clone(), store })
    }
}

/// One open subscription, counted until dropped.
struct Slot {
    open: StoreSubscriptions,
    store: StoreId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().expect("not poisoned");
        if let Some(count) = open.get_mut(&self.store) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.store);
            }
        }
    }
}

/// What a session needs from the server.
#[derive(Clone)]
pub struct Shared {
    pub api: Api,
    pub keys: KeyCache,
    pub key_changes: broadcast::Sender<Option<KeyChange>>,
    pub subscriptions: StoreSubscriptions,
    pub limits: Limits,
}

/// What an operation's task sends back.
enum Outgoing {
    Next(String, async_graphql::Response),
    Complete(String),
}

/// An operation running on the connection.
struct Operation {
    task: AbortHandle,
    _slot: Option<Slot>,
}

impl Drop for Operation {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the session ends.
struct Closing(u16, String);

struct Session {
    socket: WebSocket,
    protocol: Protocol,
    shared: Shared,
    /// The key from the upgrade request's `Authorization` header, if any.
    header_key: Option<String>,
    /// The key and its grant, once `connection_init` was accepted.
    caller: Option<(String, KeyGrant)>,
    operations: HashMap<String, Operation>,
    outgoing: mpsc::Sender<Outgoing>,
}

/// Serves one connection until either side closes it.
pub async fn serve(socket: WebSocket, protocol: Protocol, shared: Shared, header_key: Option<String>) {
    let (outgoing, mut results) = mpsc::channel(64);
    let mut key_changes = shared.key_changes.subscribe();
    let limits = shared.limits;
    let mut session = Session { socket, protocol, shared, header_key, caller: None, operations: HashMap::new(), outgoing };
    let init_deadline = tokio::time::sleep(limits.init_timeout);
    tokio::pin!(init_deadline);
    let mut keepalive = tokio::time::interval(limits.keepalive);
    keepalive.reset();
    let closing = loop {
        let ready = session.caller.is_some();
        let step = tokio::select! {
            incoming = session.socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => session.receive(text.as_bytes()).await,
                Some(Ok(Message::Binary(bytes))) => session.receive(&bytes).await,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => break None,
            },
            Some(result) = results.recv() => session.send_result(result).await,
            change = key_changes.recv(), if ready => session.key_changed(change).await,
            () = &mut init_deadline, if !ready => Err(Closing(close::INIT_TIMEOUT, "Connection initialisation timeout".into())),
            _ = keepalive.tick(), if ready => session.send(session.protocol.keepalive()).await,
        };
        if let Err(closing) = step {
            break Some(closing);
        }
    };
    session.operations.clear();
    if let Some(Closing(code, reason)) = closing {
        let _ = session.socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
    }
}

impl Session {
    async fn send(&mut self, text: String) -> Result<(), Closing> {
        // (a socket that cannot take a message is closed by its peer or its transport)
        let _ = self.socket.send(Message::Text(text.into())).await;
        Ok(())
    }

    async fn receive(&mut self, bytes: &[u8]) -> Result<(), Closing> {
        let message = ClientMessage::from_bytes(bytes).map_err(|_| Closing(close::BAD_REQUEST, "Invalid message received".into()))?;
        match message {
            ClientMessage::ConnectionInit { payload } => self.init(payload).await,
            ClientMessage::Start { id, payload } => self.start(id, payload).await,
            ClientMessage::Stop { id } => {
                if self.operations.remove(&id).is_some() && self.protocol == Protocol::Legacy {
                    self.send(Protocol::complete(&id)).await?;
                }
                Ok(())
            }
            ClientMessage::ConnectionTerminate => Err(Closing(1000, "Connection terminated".into())),
            ClientMessage::Ping { payload } => self.send(Protocol::pong(payload)).await,
            ClientMessage::Pong { .. } => Ok(()),
        }
    }

    /// `connection_init`: the key from its payload (or the upgrade request's header).
    async fn init(&mut self, payload: Option<serde_json::Value>) -> Result<(), Closing> {
        if self.caller.is_some() {
            return Err(Closing(close::TOO_MANY_INITS, "Too many initialisation requests".into()));
        }
        let key = payload.as_ref().and_then(payload_key).or_else(|| self.header_key.clone());
        match self.shared.keys.authenticate(key.as_deref()).await {
            Ok(grant) => {
                self.caller = Some((key.unwrap_or_default(), grant));
                self.send(Protocol::ack()).await
            }
            Err(err) => Err(self.refuse_key(err, "a valid API key is required in the connection_init payload").await),
        }
    }

    /// The close (after the legacy protocol's `connection_error`) for a key that no longer works.
    async fn refuse_key(&mut self, err: AppError, why: &str) -> Closing {
        let (close, code, message) = match err {
            AppError::Unavailable => (close::TRY_AGAIN_LATER, code::UNAVAILABLE, "the service is briefly unavailable: reconnect shortly"),
            _ => (close::FORBIDDEN, code::UNAUTHENTICATED, why),
        };
        if self.protocol == Protocol::Legacy {
            let _ = self.send(Protocol::connection_error(message, code)).await;
        }
        let reason = if close == close::FORBIDDEN { format!("Forbidden: {message}") } else { message.to_owned() };
        Closing(close, reason)
    }

    /// `subscribe` (`start`): checks the key again, the caps, then runs the operation.
    async fn start(&mut self, id: String, request: async_graphql::Request) -> Result<(), Closing> {
        let Some((key, _)) = self.caller.clone() else {
            return Err(Closing(close::UNAUTHORIZED, "Unauthorized".into()));
        };
        if self.operations.contains_key(&id) {
            return Err(Closing(close::DUPLICATE_ID, format!("Subscriber for {id} already exists")));
        }
        let grant = match self.shared.keys.authenticate(Some(&key)).await {
            Ok(grant) => grant,
            Err(err) => return Err(self.refuse_key(err, "the API key is no longer valid").await),
        };
        let limits = self.shared.limits;
        if self.operations.len() >= limits.per_connection {
            let message = format!("this connection has {} operations open, the most it may: complete one first", limits.per_connection);
            return self.send(self.protocol.error(&id, &message, code::RATE_LIMITED)).await;
        }
        let Some(slot) = self.shared.subscriptions.take(grant.store_id, limits.per_store) else {
            let message = format!("the store has {} subscriptions open on this server, the most it may", limits.per_store);
            return self.send(self.protocol.error(&id, &message, code::RATE_LIMITED)).await;
        };
        let caller = RequestContext { grant, request_id: uuid::Uuid::new_v4().simple().to_string(), transport: Transport::WebSocket };
        let mut responses = self.shared.api.stream(caller, request);
        let outgoing = self.outgoing.clone();
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            while let Some(response) = responses.next().await {
                if outgoing.send(Outgoing::Next(task_id.clone(), response)).await.is_err() {
                    return;
                }
            }
            let _ = outgoing.send(Outgoing::Complete(task_id)).await;
        });
        self.operations.insert(id, Operation { task: task.abort_handle(), _slot: Some(slot) });
        Ok(())
    }

    async fn send_result(&mut self, result: Outgoing) -> Result<(), Closing> {
        match result {
            Outgoing::Next(id, response) if self.operations.contains_key(&id) => self.send(self.protocol.next(&id, &response)).await,
            Outgoing::Complete(id) if self.operations.remove(&id).is_some() => self.send(Protocol::complete(&id)).await,
            // (an operation the client stopped meanwhile)
            _ => Ok(()),
        }
    }

    /// A key change anywhere: this connection's key revoked (or possibly missed) closes it.
    async fn key_changed(&mut self, change: Result<Option<KeyChange>, broadcast::error::RecvError>) -> Result<(), Closing> {
        let Some((key, grant)) = self.caller.clone() else { return Ok(()) };
        match change {
            Ok(Some(change)) if !change.concerns(&grant) => Ok(()),
            Err(broadcast::error::RecvError::Closed) => Ok(()),
            // concerned, or changes may have been missed: look the key up again
            _ => match self.shared.keys.recheck(&key).await {
                Ok(grant) => {
                    self.caller = Some((key, grant));
                    Ok(())
                }
                Err(err) => Err(self.refuse_key(err, "the API key was revoked").await),
            },
        }
    }
}

/// The key in a `connection_init` payload: `Authorization` (any case) as `Bearer <key>` or bare.
fn payload_key(payload: &serde_json::Value) -> Option<String> {
    let object = payload.as_object()?;
    let value = object.iter().find(|(k, _)| k.eq_ignore_ascii_case("authorization")).and_then(|(_, v)| v.as_str())?;
    Some(bearer(value).unwrap_or(value).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_slots_are_counted_until_dropped() {
        let open = StoreSubscriptions::default();
        let store = StoreId(uuid::Uuid::nil());
        let first = open.take(store, 2).unwrap();
        let _second = open.take(store, 2).unwrap();
        assert!(open.take(store, 2).is_none());
        drop(first);
        assert!(open.take(store, 2).is_some());
    }

    #[test]
    fn reads_the_key_from_the_init_payload() {
        assert_eq!(payload_key(&serde_json::json!({ "authorization": "Bearer wk_live_x" })), Some("wk_live_x".into()));
        assert_eq!(payload_key(&serde_json::json!({ "Authorization": "wk_live_y" })), Some("wk_live_y".into()));
        assert_eq!(payload_key(&serde_json::json!({})), None);
    }
}
