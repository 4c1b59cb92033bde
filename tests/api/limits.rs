//! Limits: depth, complexity (`first` × selection), page size and body size.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn too_deep_queries_are_refused() {
    let app = TestApp::spawn().await;
    let mut query = String::from("__typename");
    for _ in 0..14 {
        query = format!("ofType {{ {query} }}");
    }
    let body = app.gql(&format!("{{ __type(name: \"Customer\") {{ {query} }} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("depth"));
}

#[tokio::test(flavor = "multi_thread")]
async fn complexity_counts_first_times_the_selection() {
    let app = TestApp::spawn().await;
    let fields = "id email firstName lastName phone tags metadata totalOrders totalSpent createdAt updatedAt";
    let cheap = app.gql(&format!("{{ customers(first: 10) {{ nodes {{ {fields} }} }} }}"), json!({})).await;
    assert_no_errors(&cheap);
    // 250 × (11 fields + addresses × 11) × aliases exceeds 20,000.
    let addresses = "addresses { id line1 line2 city state postalCode country phone firstName lastName company }";
    let aliases: String = (0..8).map(|i| format!("a{i}: customers(first: 250) {{ nodes {{ {fields} {addresses} }} }} ")).collect();
    let body = app.gql(&format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("exceeds the limit of 20000"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_with_413() {
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
}
