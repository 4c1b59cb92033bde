//! Limits: the query text's size and nesting (checked before parsing), depth (introspection
//! with its own budget), cost (`2 + first × each item`), page size and body size.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn too_deep_queries_are_refused() {
    let app = TestApp::spawn().await;
    // 15 levels of real fields
    let mut query = String::from("id");
    for _ in 0..4 {
        query = format!("segments {{ members(first: 1) {{ nodes {{ {query} }} }} }}");
    }
    let body = app.gql(&format!("{{ customers(first: 1) {{ nodes {{ {query} }} }} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert_eq!(body["errors"][0]["message"], "Query depth 15 exceeds the limit of 12", "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_standard_introspection_query_passes_the_default_limits() {
    let app = TestApp::spawn().await;
    let body = app.gql(include_str!("../fixtures/introspection.graphql"), json!({})).await;
    assert_no_errors(&body);
    assert!(body["data"]["__schema"]["types"].as_array().unwrap().len() > 50);
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 100);
    // deeper than its own budget (16) is refused
    let mut deep = String::from("name");
    for _ in 0..17 {
        deep = format!("ofType {{ {deep} }}");
    }
    let body = app.gql(&format!("{{ __type(name: \"Customer\") {{ {deep} }} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Introspection depth"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn values_nested_thousands_deep_are_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let lists = format!("{{ customers(metadata: {}1{}) {{ totalCount }} }}", "[".repeat(3000), "]".repeat(3000));
    let objects = format!("{{ customers(metadata: {}1{}) {{ totalCount }} }}", "{a:".repeat(3000), "}".repeat(3000));
    for query in [&lists, &objects] {
        // with a key and without, by POST and by GET
        let body = app.gql(query, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("nests brackets deeper than 64"));
        let anonymous = app.client.get(app.url("/graphql")).query(&[("query", query.as_str())]).send().await.unwrap();
        assert_eq!(anonymous.status(), 401);
        let get = app.client.get(app.url("/graphql")).bearer_auth(&app.key).query(&[("query", query.as_str())]).send().await.unwrap();
        let body: Value = get.json().await.unwrap();
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        let subscription = format!("subscription {}", &query[1..]);
        let body = app.gql(&subscription, json!({})).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
    }
    // over WebSocket too
    let mut socket = ws_session(app.addr, "graphql-transport-ws", &app.key).await;
    ws_send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": lists } })).await;
    let answer = next_json(&mut socket).await.expect("an answer");
    assert_eq!(answer["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{answer}");
    // JSON variables nested deeper than the JSON parser's limit are refused as a bad body
    let deep_json = format!("{{\"query\": \"{{ customers {{ totalCount }} }}\", \"variables\": {{\"m\": {}1{}}}}}", "[".repeat(3000), "]".repeat(3000));
    let response = app.client.post(app.url("/graphql")).bearer_auth(&app.key).header("Content-Type", "application/json").body(deep_json).send().await.unwrap();
    assert_eq!(response.status(), 400);
    let healthy = app.gql("{ customers { totalCount } }", json!({})).await;
    assert_no_errors(&healthy);
}

#[tokio::test(flavor = "multi_thread")]
async fn complexity_counts_first_times_the_selection() {
    let app = TestApp::spawn().await;
    let fields = "id email firstName lastName phone tags metadata totalOrders totalSpent createdAt updatedAt";
    let cheap = app.gql(&format!("{{ customers(first: 10) {{ nodes {{ {fields} }} }} }}"), json!({})).await;
    assert_no_errors(&cheap);
    assert_eq!(cheap["extensions"]["cost"]["requestedQueryCost"], 2 + 10);
    // 8 × (2 + 250 × (1 + 20 addresses)) exceeds 20,000
    let addresses = "addresses { id line1 line2 city state postalCode country phone firstName lastName company }";
    let aliases: String = (0..8).map(|i| format!("a{i}: customers(first: 250) {{ nodes {{ {fields} {addresses} }} }} ")).collect();
    let body = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Query cost 42016 exceeds the limit of 20000"), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["requestedQueryCost"], 42016);
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_amplification_is_priced() {
    let app = TestApp::spawn().await;
    let aliases: String = (0..1000).map(|i| format!("s{i}: __schema {{ types {{ name fields {{ name args {{ name }} }} }} }} ")).collect();
    let body = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body.get("data").is_none_or(Value::is_null));
}

#[tokio::test(flavor = "multi_thread")]
async fn fragment_bombs_are_refused_before_they_run() {
    let app = TestApp::spawn().await;
    let mut query = String::from("{ customers { nodes { ...F0 } } }");
    for level in 0..30 {
        query.push_str(&format!(" fragment F{level} on Customer {{ ...F{next} ...F{next} }}", next = level + 1));
    }
    query.push_str(" fragment F30 on Customer { id }");
    let started = std::time::Instant::now();
    let body = app.gql(&query, json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("once its fragments are expanded"), "{body}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_and_queries_are_refused_with_413() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(300 * 1024);
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.key)
        .json(&json!({ "query": "{ customers { totalCount } }", "variables": { "pad": padding } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("larger than"));
    let long = format!("{{ customers {{ totalCount }} }} # {}", "x".repeat(70 * 1024));
    let response = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&json!({ "query": long })).send().await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("longer than 65536 bytes"));
}
