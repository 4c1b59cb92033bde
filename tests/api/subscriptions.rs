//! `dataRequestCompleted` and `dataRequestUpdated` over a real WebSocket, in both protocols,
//! store-scoped, and across processes: a subscriber on one `serve` process hears a request
//! finished by a worker in another.

use crate::helpers::*;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::process::Child;

const FIELDS: &str = "id customerId type status notifyCustomer emailHash downloadUrl completedAt";

const REQUEST: &str = "mutation($id: ID!, $input: DataRequestInput!) { requestDataRemoval(customerId: $id, input: $input) { id status } }";

/// Subscribes (graphql-transport-ws) as operation `id`, then waits for a query sent after it on
/// the same socket to be answered: by then the server is listening for the subscription's events.
async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    ws_send(socket, json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
    let barrier = format!("{id}-barrier");
    ws_send(socket, json!({ "id": barrier, "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
    loop {
        let message = next_json(socket).await.expect("socket open");
        if message["id"] == barrier.as_str() && message["type"] == "complete" {
            return;
        }
        assert_ne!(message["id"], id, "nothing for the subscription yet: {message}");
    }
}

/// The next `next` payload for operation `id` (graphql-transport-ws).
async fn next_for(socket: &mut Socket, id: &str, secs: u64) -> Value {
    loop {
        let message = ws_next_within(socket, secs).await.expect("socket open");
        if message["id"] == id {
            assert_eq!(message["type"], "next", "{message}");
            return message["payload"].clone();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_is_followed_to_completion_over_graphql_transport_ws() {
    let app = TestApp::spawn().await;
    let customer = app.create_customer(json!({ "email": unique_email("sub") })).await;
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    let updated = format!("subscription($c: ID!) {{ dataRequestUpdated(customerId: $c) {{ {FIELDS} }} }}");
    subscribe(&mut socket, "updates", &updated, json!({ "c": customer })).await;

    let made = app.gql(REQUEST, json!({ "id": customer, "input": { "type": "EXPORT", "format": "CSV" } })).await;
    assert_no_errors(&made);
    let request = made["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    let last = loop {
        let payload = next_for(&mut socket, "updates", 30).await;
        let update = payload["data"]["dataRequestUpdated"].clone();
        assert_eq!((update["id"].as_str(), update["customerId"].as_str()), (Some(request.as_str()), Some(customer.as_str())), "{payload}");
        statuses.push(update["status"].as_str().unwrap().to_owned());
        if update["status"] == "COMPLETED" {
            break update;
        }
    };
    assert_eq!(statuses, ["PENDING", "PROCESSING", "COMPLETED"], "every change, in order");
    assert!(last["downloadUrl"].as_str().is_some_and(|u| u.contains(&request)), "{last}");

    // subscribing to a request that has already completed: its final state at once, then the end
    let completed = format!("subscription($id: ID!) {{ dataRequestCompleted(id: $id) {{ {FIELDS} }} }}");
    ws_send(&mut socket, json!({ "id": "done", "type": "subscribe", "payload": { "query": completed, "variables": { "id": request } } })).await;
    let payload = next_for(&mut socket, "done", 10).await;
    assert_eq!(payload["data"]["dataRequestCompleted"]["status"], "COMPLETED");
    let end = next_json(&mut socket).await.unwrap();
    assert_eq!((end["id"].as_str(), end["type"].as_str()), (Some("done"), Some("complete")));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_completes_for_a_legacy_graphql_ws_subscriber() {
    let app = TestApp::spawn().await;
    let customer = app.create_customer(json!({ "email": unique_email("legacy") })).await;
    let mut socket = ws_session(app.addr, "graphql-ws", &app.key).await;
    let query = format!("subscription($c: ID!) {{ dataRequestCompleted(customerId: $c) {{ {FIELDS} }} }}");
    ws_send(&mut socket, json!({ "id": "1", "type": "start", "payload": { "query": query, "variables": { "c": customer } } })).await;
    ws_send(&mut socket, json!({ "id": "2", "type": "start", "payload": { "query": "{ __typename }" } })).await;
    loop {
        let message = next_json(&mut socket).await.unwrap();
        if message["id"] == "2" && message["type"] == "complete" {
            break;
        }
    }
    let made = app.gql(REQUEST, json!({ "id": customer, "input": { "type": "ERASURE", "notifyCustomer": true } })).await;
    assert_no_errors(&made);
    let message = ws_next_within(&mut socket, 30).await.unwrap();
    assert_eq!((message["id"].as_str(), message["type"].as_str()), (Some("1"), Some("data")), "{message}");
    let done = &message["payload"]["data"]["dataRequestCompleted"];
    assert_eq!((done["type"].as_str(), done["status"].as_str(), done["notifyCustomer"].as_bool()), (Some("ERASURE"), Some("COMPLETED"), Some(true)));
    assert!(done["emailHash"].is_string() && done["downloadUrl"].is_null(), "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_see_their_own_store_only() {
    let app = TestApp::spawn().await;
    let (_, other_key) = new_store("other", false).await;
    let customer = app.create_customer(json!({ "email": unique_email("iso") })).await;
    let mut mine = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    let mut theirs = ws_session(app.addr, "graphql-transport-ws", &other_key).await;
    let all = "subscription { dataRequestCompleted { id status } }";
    subscribe(&mut mine, "all", all, json!({})).await;
    subscribe(&mut theirs, "all", all, json!({})).await;

    let made = app.gql(REQUEST, json!({ "id": customer, "input": { "type": "EXPORT" } })).await;
    let request = made["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    let heard = next_for(&mut mine, "all", 30).await;
    assert_eq!(heard["data"]["dataRequestCompleted"]["id"], request.as_str());

    // the other store heard nothing: the next thing on its socket is the answer to a later query
    ws_send(&mut theirs, json!({ "id": "later", "type": "subscribe", "payload": { "query": "{ __typename }" } })).await;
    let message = next_json(&mut theirs).await.unwrap();
    assert_eq!(message["id"], "later", "another store's request reached this subscriber: {message}");

    // and it cannot follow this store's request by id
    let by_id = "subscription($id: ID!) { dataRequestCompleted(id: $id) { id } }";
    ws_send(&mut theirs, json!({ "id": "peek", "type": "subscribe", "payload": { "query": by_id, "variables": { "id": request } } })).await;
    let refused = loop {
        let message = next_json(&mut theirs).await.unwrap();
        if message["id"] == "peek" {
            break message;
        }
    };
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND", "{refused}");
    assert_eq!(refused["payload"]["data"], Value::Null);
}

/// A `whale-crm serve` process on a free port.
async fn serve(workers: &str) -> (Child, SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let child = whale_command(&["serve", "--bind", &addr.to_string()])
        .env("WHALE_WORKERS", workers)
        .env("WHALE_JOBS_POLL_MS", "200")
        .spawn()
        .expect("serve starts");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while client.get(format!("http://{addr}/readyz")).send().await.map(|r| r.status().is_success()).ok() != Some(true) {
        assert!(tokio::time::Instant::now() < deadline, "serve on {addr} never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (child, addr)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscriber_on_one_instance_hears_a_worker_of_another() {
    let (store, key) = new_store("two instances", false).await;
    let _ = store;
    // A serves the subscriber and has no workers; B has the workers.
    let ((_a, a), (_b, _)) = tokio::join!(serve("0"), serve("2"));
    let client = reqwest::Client::new();
    let gql = |query: &str, variables: Value| {
        client.post(format!("http://{a}/graphql")).bearer_auth(&key).json(&json!({ "query": query, "variables": variables })).send()
    };
    let created: Value = gql("mutation($e: String!) { createCustomer(input: { email: $e }) { customer { id } } }", json!({ "e": unique_email("twoproc") }))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = created["data"]["createCustomer"]["customer"]["id"].as_str().unwrap().to_owned();

    let mut socket = ws_session(a, "graphql-transport-ws", &key).await;
    let query = format!("subscription($c: ID!) {{ dataRequestCompleted(customerId: $c) {{ {FIELDS} }} }}");
    subscribe(&mut socket, "far", &query, json!({ "c": customer })).await;
    let made: Value = gql(REQUEST, json!({ "id": customer, "input": { "type": "EXPORT" } })).await.unwrap().json().await.unwrap();
    assert_no_errors(&made);
    let request = made["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();

    let payload = next_for(&mut socket, "far", 60).await;
    let done = &payload["data"]["dataRequestCompleted"];
    assert_eq!((done["id"].as_str(), done["status"].as_str()), (Some(request.as_str()), Some("COMPLETED")), "{payload}");
    assert!(done["downloadUrl"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_over_plain_http_is_refused_with_a_pointer_to_the_websocket() {
    let app = TestApp::spawn().await;
    let body = app.gql("subscription { dataRequestCompleted { id } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("/graphql/ws"), "{body}");
}
