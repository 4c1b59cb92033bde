//! DataLoader batching: the SQL statements for a page of customers with nested addresses,
//! activity, notes and metrics do not grow with the page.

use crate::helpers::*;
use serde_json::{Value, json};

const NESTED: &str = "query($first: Int) {
  customers(first: $first) {
    nodes {
      email
      addresses { city }
      defaultAddress { country }
      activity(first: 10) { nodes { title ... on OrderEvent { orderId } } pageInfo { hasNextPage } }
      notes(first: 10) { nodes { body } }
      metrics { rfm { segment } churnRisk averageOrderValue }
    }
  }
}";

/// Runs `query` asking for the SQL statement count; returns it with the (error-free) body.
async fn counted(app: &TestApp, query: &str, variables: Value) -> (u64, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.key)
        .header("Whale-Debug", "sql")
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_no_errors(&body);
    (body["extensions"]["sqlStatements"].as_u64().expect("sqlStatements"), body)
}

async fn statements(app: &TestApp, first: i32) -> (u64, Value) {
    counted(app, NESTED, json!({ "first": first })).await
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_customer_page_runs_a_constant_number_of_statements() {
    let app = TestApp::spawn().await;
    let mut events = Vec::new();
    for i in 0..50 {
        let id = app.create_customer(json!({ "email": format!("b{i:02}@batch.com"), "addresses": [{ "city": "Oslo", "country": "NO" }] })).await;
        for j in 0..2 {
            events.push(json!({ "customerId": id, "event": { "type": "ORDER", "title": format!("o{j}"), "amount": 1.0, "orderId": format!("{i}-{j}") } }));
        }
        app.gql("mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"hi\") { id } }", json!({ "id": id })).await;
    }
    let body = app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await;
    assert_eq!(body["data"]["recordActivities"]["createdCount"], 100);

    let (five, small) = statements(&app, 5).await;
    let (fifty, large) = statements(&app, 50).await;
    assert_eq!(small["data"]["customers"]["nodes"].as_array().unwrap().len(), 5);
    let nodes = large["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    assert!(nodes.iter().all(|n| n["activity"]["nodes"].as_array().unwrap().len() == 2 && n["notes"]["nodes"].as_array().unwrap().len() == 1));
    assert_eq!(five, fifty, "statements must not grow with the page");
    // The page, addresses (shared by both address fields), activity, notes and the store's
    // metrics state.
    assert_eq!(fifty, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_segments_cost_the_same_whatever_the_page_and_the_number_of_segments() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let tags = if i % 3 == 0 { json!(["vip"]) } else { json!([]) };
        ids.push(app.create_customer(json!({ "email": format!("s{i:02}@seg.com"), "tags": tags })).await);
    }
    let create = "mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id } }";
    let add_segments = |n: usize| {
        let app = &app;
        let ids = ids.clone();
        async move {
            for k in 0..n {
                let dynamic = json!({ "name": format!("vip {k}"), "type": "DYNAMIC", "rules": [{ "field": "tags", "operator": "contains", "value": "vip" }] });
                assert_no_errors(&app.gql(create, json!({ "input": dynamic })).await);
                let members: Vec<&String> = ids.iter().step_by(k + 2).collect();
                let fixed = json!({ "name": format!("list {k}"), "type": "STATIC", "customerIds": members });
                assert_no_errors(&app.gql(create, json!({ "input": fixed })).await);
            }
        }
    };
    let count = |first: i32| {
        let app = &app;
        async move {
            let query = "query($f: Int) { customers(first: $f, sort: EMAIL, order: ASC) { nodes { email segments { name } } } }";
            counted(app, query, json!({ "f": first })).await
        }
    };
    add_segments(1).await;
    let (few_segments_small, _) = count(5).await;
    let (few_segments_large, body) = count(30).await;
    // s00 is a VIP, and on every static list (every k-th customer from the first).
    assert_eq!(body["data"]["customers"]["nodes"][0]["segments"].as_array().unwrap().len(), 2);
    add_segments(3).await;
    let (many_segments, body) = count(30).await;
    assert_eq!(body["data"]["customers"]["nodes"][0]["segments"].as_array().unwrap().len(), 8);
    assert_eq!(few_segments_small, few_segments_large);
    assert_eq!(few_segments_large, many_segments, "statements must not grow with the segments");
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_enrichment_is_one_statement_for_the_page() {
    let app = TestApp::spawn().await;
    for i in 0..30 {
        app.create_customer(json!({ "email": format!("e{i}.{}", unique_email("enrich")), "phone": "+33 1 42 68 53 00" })).await;
    }
    let count = |first: i32| {
        let app = &app;
        async move {
            let query = "query($f: Int) { customers(first: $f) { nodes { enrichment { phone { country } location { timeZone } } } } }";
            let (statements, body) = counted(app, query, json!({ "f": first })).await;
            assert!(body["data"]["customers"]["nodes"].as_array().unwrap().iter().all(|n| n["enrichment"]["location"]["timeZone"] == "Europe/Paris"), "{body}");
            statements
        }
    };
    let (small, large) = (count(5).await, count(30).await);
    assert_eq!(small, large, "statements must not grow with the page");
    // the page, and the enrichment rows of all of it
    assert_eq!(large, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn more_concurrent_pages_than_connections_all_complete() {
    // A page must not hold a connection while it waits for another: with two connections,
    // six concurrent nested pages would otherwise wait on each other until the pool times out.
    let mut config = test_config();
    config.database.pool_size = 2;
    config.database.connect_timeout_secs = 3;
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    for i in 0..6 {
        let id = app.create_customer(json!({ "email": format!("p{i}.{}", unique_email("pool")), "addresses": [{ "city": "Oslo", "country": "NO" }] })).await;
        assert_no_errors(&app.gql("mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"hi\") { id } }", json!({ "id": id })).await);
    }
    let pages = (0..6).map(|_| app.gql(NESTED, json!({ "first": 6 })));
    for body in futures_util::future::join_all(pages).await {
        assert_no_errors(&body);
        assert_eq!(body["data"]["customers"]["nodes"].as_array().map(Vec::len), Some(6));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn many_aliased_timelines_on_a_page_are_all_answered() {
    // A page reads a few distinct timeline pages ahead; the others go through the DataLoaders.
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("aliases") })).await;
    let events: Vec<Value> = (0..6).map(|i| json!({ "customerId": id, "event": { "type": "EMAIL", "title": format!("e{i}") } })).collect();
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await);
    let aliases: String = (1..=6).map(|n| format!("a{n}: activity(first: {n}) {{ nodes {{ title }} }} ")).collect();
    let body = app.gql(&format!("{{ customers(first: 5) {{ nodes {{ {aliases} }} }} }}"), json!({})).await;
    assert_no_errors(&body);
    let node = &body["data"]["customers"]["nodes"][0];
    for n in 1..=6 {
        assert_eq!(node[format!("a{n}")]["nodes"].as_array().map(Vec::len), Some(n), "{node}");
    }
}
