//! The WebSocket's own limits and protocol errors: `connection_init` in time, the key checked
//! at init and for every operation, a revoked key's socket closed at once (from another process
//! too), operation ids unique, caps on operations per connection and subscriptions per store,
//! the request timeout and the message size limit as over HTTP.

use crate::helpers::*;
use diesel_async::SimpleAsyncConnection;
use serde_json::json;
use std::time::{Duration, Instant};

const WATCH: &str = "subscription { dataRequestUpdated { id status } }";

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_keys_socket_is_closed_within_a_second() {
    let app = TestApp::spawn().await;
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let (_, key) = new_store("revoked", false).await;
        let mut socket = ws_session(app.addr, protocol, &key).await;
        let start = if protocol == "graphql-ws" { "start" } else { "subscribe" };
        ws_send(&mut socket, json!({ "id": "1", "type": start, "payload": { "query": WATCH } })).await;
        // the subscription is live: a query on the same socket answers
        ws_send(&mut socket, json!({ "id": "2", "type": start, "payload": { "query": "{ customers { totalCount } }" } })).await;
        let answer = next_json(&mut socket).await.expect("an answer");
        assert_eq!(answer["payload"]["data"]["customers"]["totalCount"], 0, "{answer}");
        // revoked by the command line, another process
        let revoked = whale_command(&["key", "revoke", &key]).output().await.expect("whale-crm runs");
        assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
        let revoked_at = Instant::now();
        let code = ws_close_code(&mut socket, 5).await;
        assert_eq!(code, Some(4403), "{protocol}");
        assert!(revoked_at.elapsed() < Duration::from_secs(1), "closed {:?} after the revocation", revoked_at.elapsed());
        // and the key is refused over HTTP at once
        let body = app.gql_as(&key, "{ customers { totalCount } }", json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_that_never_initialises_is_closed_with_4408() {
    let mut config = test_config();
    config.http.websocket.init_timeout = Duration::from_millis(500);
    let app = TestApp::spawn_with(config).await;
    let mut socket = ws_connect(app.addr, "graphql-transport-ws").await;
    let started = Instant::now();
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4408));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn protocol_errors_close_with_their_codes() {
    let app = TestApp::spawn().await;
    // an operation before connection_init: 4401
    let mut socket = ws_connect(app.addr, "graphql-transport-ws").await;
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": WATCH } })).await;
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4401));
    // a bad key: 4403 (the legacy protocol sends connection_error first)
    let mut socket = ws_connect(app.addr, "graphql-transport-ws").await;
    ws_send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": "Bearer wk_live_nope" } })).await;
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4403));
    let mut socket = ws_connect(app.addr, "graphql-ws").await;
    ws_send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    let error = next_json(&mut socket).await.expect("connection_error");
    assert_eq!(error["type"], "connection_error");
    assert_eq!(error["payload"]["extensions"]["code"], "UNAUTHENTICATED");
    // two inits: 4429; a repeated id: 4409; not JSON: 4400
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    ws_send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.key) } })).await;
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4429));
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    ws_send(&mut socket, json!({ "id": "a", "type": "subscribe", "payload": { "query": WATCH } })).await;
    ws_send(&mut socket, json!({ "id": "a", "type": "subscribe", "payload": { "query": WATCH } })).await;
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4409));
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    {
        use futures_util::SinkExt;
        socket.send(tokio_tungstenite::tungstenite::Message::Text("not json".into())).await.unwrap();
    }
    assert_eq!(ws_close_code(&mut socket, 5).await, Some(4400));
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_per_connection_and_subscriptions_per_store_are_capped() {
    let mut config = test_config();
    config.http.websocket.per_connection = 3;
    config.http.websocket.per_store = 5;
    let app = TestApp::spawn_with(config).await;
    let mut first = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    for id in 0..3 {
        ws_send(&mut first, json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": WATCH } })).await;
    }
    ws_send(&mut first, json!({ "id": "3", "type": "subscribe", "payload": { "query": WATCH } })).await;
    let refused = next_json(&mut first).await.expect("an answer");
    assert_eq!((refused["type"].as_str(), refused["id"].as_str()), (Some("error"), Some("3")), "{refused}");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // the store's fifth subscription fits, its sixth does not
    let mut second = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    for id in 0..2 {
        ws_send(&mut second, json!({ "id": id.to_string(), "type": "subscribe", "payload": { "query": WATCH } })).await;
    }
    ws_send(&mut second, json!({ "id": "2", "type": "subscribe", "payload": { "query": WATCH } })).await;
    let refused = next_json(&mut second).await.expect("an answer");
    assert_eq!(refused["id"], "2", "{refused}");
    assert!(refused["payload"][0]["message"].as_str().unwrap().contains("the store has 5 subscriptions open"), "{refused}");
    // completing one frees its place
    ws_send(&mut first, json!({ "id": "0", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    ws_send(&mut second, json!({ "id": "9", "type": "subscribe", "payload": { "query": "{ customers { totalCount } }" } })).await;
    let answer = next_json(&mut second).await.expect("an answer");
    assert_eq!((answer["type"].as_str(), answer["id"].as_str()), (Some("next"), Some("9")), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_timeout_and_the_size_limit_hold_on_the_socket_too() {
    let mut config = test_config();
    config.http.query_timeout_secs = 1;
    let app = TestApp::spawn_with(config).await;
    // an update that waits for a row another transaction holds
    let id = app.create_customer(json!({ "email": unique_email("held") })).await;
    let uuid = whale_crm::domain::ids::CustomerId::parse(&id).unwrap().0;
    let mut holder = connection().await;
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM customers WHERE id = '{uuid}' FOR UPDATE")).await.unwrap();
    let update = json!({ "query": "mutation($id: ID!) { updateCustomer(id: $id, input: { firstName: \"Late\" }) { customer { firstName } } }", "variables": { "id": id } });
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    let started = Instant::now();
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": update })).await;
    let answer = next_json(&mut socket).await.expect("an answer");
    assert_eq!(answer["payload"]["errors"][0]["message"], "the request took longer than 1 s", "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let response = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&update).send().await.unwrap();
    assert_eq!(response.status(), 503);
    holder.batch_execute("ROLLBACK").await.unwrap();
    // a message larger than the body limit (256 KiB in tests) closes the socket
    let huge = "x".repeat(300 * 1024);
    ws_send(&mut socket, json!({ "id": "2", "type": "subscribe", "payload": { "query": "{ customers { totalCount } }", "variables": { "pad": huge } } })).await;
    assert!(matches!(ws_close_code(&mut socket, 5).await, Some(1009) | None));
}
