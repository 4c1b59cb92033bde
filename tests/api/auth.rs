//! Authentication and authorisation: 401 for missing, malformed, unknown and revoked keys;
//! FORBIDDEN for read-only keys that mutate, over HTTP and WebSocket.

use crate::helpers::*;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use whale_crm::db::api_keys;

async fn status_and_body(app: &TestApp, auth: Option<&str>) -> (u16, Value) {
    let mut request = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ customers { totalCount } }" }));
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_malformed_unknown_and_revoked_keys_get_401() {
    let app = TestApp::spawn().await;
    let unknown = format!("Bearer wk_live_{}", "A".repeat(40));
    let last = if app.key.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("Bearer {}{last}", &app.key[..app.key.len() - 1]);
    for auth in [None, Some("Basic dXNlcjpwYXNz"), Some("Bearer nonsense"), Some(unknown.as_str()), Some(tampered.as_str())] {
        let (status, body) = status_and_body(&app, auth).await;
        assert_eq!(status, 401, "{auth:?}");
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{auth:?}");
        assert!(body.get("data").is_none());
    }
    let (status, _) = status_and_body(&app, Some(&format!("bearer {}", app.key))).await;
    assert_eq!(status, 200, "the scheme is case-insensitive");

    let (store, key) = new_store("revocable", false).await;
    let _ = store;
    let (status, _) = status_and_body(&app, Some(&format!("Bearer {key}"))).await;
    assert_eq!(status, 200);
    assert!(api_keys::revoke(&mut connection().await, &key[8..20]).await.unwrap());
    // the server cached the key's grant; the revocation's announcement reaches it in moments
    let revoked = std::time::Instant::now();
    loop {
        let (status, body) = status_and_body(&app, Some(&format!("Bearer {key}"))).await;
        if status == 401 {
            assert_eq!(error_code(&body), "UNAUTHENTICATED");
            break;
        }
        assert!(revoked.elapsed() < std::time::Duration::from_secs(1), "still accepted {:?} after the revocation", revoked.elapsed());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_keys_read_but_may_not_mutate() {
    let app = TestApp::spawn().await;
    let mut conn = connection().await;
    let read_only = api_keys::issue(&mut conn, app.store, "reporting", true).await.unwrap();
    let email = unique_email("ro");
    let body = app.gql_as(&read_only, CREATE, json!({ "input": { "email": email } })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    assert!(body.get("data").is_none(), "nothing executed: {body}");
    let named = app
        .gql_as(&read_only, "query Q { customers { totalCount } } mutation M { deleteCustomer(id: \"cust_00000000000000000000000000000000\") { deletedCustomerId } }", json!({}))
        .await;
    assert_eq!(error_code(&named), "BAD_USER_INPUT", "several operations need an operationName");
    let lookup = app.gql("query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": email })).await;
    assert!(lookup["data"]["customerByEmail"].is_null(), "nothing written");
    let read = app.gql_as(&read_only, "{ customers { totalCount } }", json!({})).await;
    assert_no_errors(&read);

    // With an operation name, the selected operation decides.
    let request = json!({ "query": "query Q { customers { totalCount } } mutation M { createCustomer(input: {email: \"x@y.com\"}) { created } }", "operationName": "Q" });
    let q: Value = app.client.post(app.url("/graphql")).bearer_auth(&read_only).json(&request).send().await.unwrap().json().await.unwrap();
    assert_no_errors(&q);
    let request = json!({ "query": request["query"], "operationName": "M" });
    let m: Value = app.client.post(app.url("/graphql")).bearer_auth(&read_only).json(&request).send().await.unwrap().json().await.unwrap();
    assert_eq!(error_code(&m), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_runs_operations_for_an_authenticated_connection() {
    let app = TestApp::spawn().await;
    app.create_customer(json!({ "email": unique_email("ws") })).await;
    let mut socket = ws_connect(app.addr, "graphql-transport-ws").await;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", app.key) } });
    socket.send(Message::Text(init.to_string().into())).await.unwrap();
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ customers { totalCount } }" } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    let next = next_json(&mut socket).await.unwrap();
    assert_eq!(next["type"], "next");
    assert_eq!(next["payload"]["data"]["customers"]["totalCount"], 1);
    assert_eq!(next_json(&mut socket).await.unwrap()["type"], "complete");
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_without_a_valid_key_is_closed() {
    let app = TestApp::spawn().await;
    for payload in [json!({}), json!({ "Authorization": "Bearer wk_live_nope" })] {
        let mut socket = ws_connect(app.addr, "graphql-transport-ws").await;
        socket.send(Message::Text(json!({ "type": "connection_init", "payload": payload }).to_string().into())).await.unwrap();
        let reply = next_json(&mut socket).await;
        assert!(reply.is_none() || reply.as_ref().unwrap()["type"] != "connection_ack", "{reply:?}");
    }
}
