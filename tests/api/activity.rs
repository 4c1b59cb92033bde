//! Activity: recording (idempotent, totals exact under concurrency, batch), validation, and
//! timeline pages.

use crate::helpers::*;
use serde_json::{Value, json};

pub const RECORD: &str = "mutation($id: ID!, $input: ActivityInput!) {
  recordActivity(customerId: $id, input: $input) {
    created
    event { id type title amount occurredAt externalId properties
            ... on OrderEvent { orderId } ... on EmailEvent { campaignId }
            ... on PageViewEvent { referrer } ... on SupportEvent { agent } }
    customer { totalOrders totalSpent firstOrderAt lastOrderAt }
  }
}";

const TIMELINE: &str = "query($id: ID!, $types: [ActivityType!], $after: DateTime, $before: DateTime, $first: Int, $cursor: String) {
  customer(id: $id) {
    activity(types: $types, after: $after, before: $before, first: $first, cursor: $cursor) {
      nodes { id type title occurredAt }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}";

pub async fn record(app: &TestApp, customer: &str, input: Value) -> Value {
    app.gql(RECORD, json!({ "id": customer, "input": input })).await
}

fn order(amount: f64, at: &str) -> Value {
    json!({ "type": "ORDER", "title": "Order placed", "amount": amount, "occurredAt": at })
}

async fn totals(app: &TestApp, customer: &str) -> Value {
    let body = app.gql("query($id: ID!) { customer(id: $id) { totalOrders totalSpent firstOrderAt lastOrderAt } }", json!({ "id": customer })).await;
    body["data"]["customer"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn orders_move_totals_in_the_same_transaction() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("o") })).await;
    let first = record(&app, &id, json!({ "type": "ORDER", "title": "Order #1047 placed", "amount": 289.0,
                                          "occurredAt": "2026-03-08T14:30:00Z", "orderId": "1047" })).await;
    assert_no_errors(&first);
    let payload = &first["data"]["recordActivity"];
    assert_eq!(payload["created"], true);
    assert!(payload["event"]["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(payload["event"]["type"], "ORDER");
    assert_eq!(payload["event"]["orderId"], "1047");
    assert_eq!(payload["event"]["amount"], 289.0);
    assert_eq!(payload["customer"]["totalOrders"], 1);
    record(&app, &id, order(10.5, "2026-01-02T00:00:00Z")).await;
    record(&app, &id, json!({ "type": "EMAIL", "title": "Opened: Spring", "campaignId": "camp_x1y2z3" })).await;
    assert_eq!(
        totals(&app, &id).await,
        json!({ "totalOrders": 2, "totalSpent": 299.5, "firstOrderAt": "2026-01-02T00:00:00.000Z", "lastOrderAt": "2026-03-08T14:30:00.000Z" })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_external_id_returns_the_original_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("r") })).await;
    let input = json!({ "type": "ORDER", "title": "Order #1", "amount": 50.0, "externalId": "order-1" });
    let first = record(&app, &id, input.clone()).await;
    let replay = record(&app, &id, json!({ "type": "ORDER", "title": "Order #1 (again)", "amount": 999.0, "externalId": "order-1" })).await;
    assert_no_errors(&replay);
    assert_eq!(replay["data"]["recordActivity"]["created"], false);
    assert_eq!(replay["data"]["recordActivity"]["event"]["id"], first["data"]["recordActivity"]["event"]["id"]);
    assert_eq!(replay["data"]["recordActivity"]["event"]["title"], "Order #1");
    assert_eq!(totals(&app, &id).await["totalSpent"], 50.0);
    // The same external id on another customer is a conflict, not a silent no-op.
    let other = app.create_customer(json!({ "email": unique_email("r2") })).await;
    let clash = record(&app, &other, input).await;
    assert_eq!(error_code(&clash), "CONFLICT");
    assert_eq!(error_path(&clash), "input.externalId");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_orders_on_one_customer_sum_exactly() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("c") })).await;
    let requests = (0..40).map(|i| record(&app, &id, json!({ "type": "ORDER", "title": format!("Order {i}"), "amount": 1.01 + f64::from(i) })));
    for body in futures_util::future::join_all(requests).await {
        assert_no_errors(&body);
    }
    let t = totals(&app, &id).await;
    assert_eq!(t["totalOrders"], 40);
    // 40 × 1.01 + (0 + 1 + ... + 39) = 40.40 + 780
    assert_eq!(t["totalSpent"], 820.4);
    // Replays racing each other record one event.
    let replays = (0..20).map(|_| record(&app, &id, json!({ "type": "ORDER", "title": "Dup", "amount": 5.0, "externalId": "dup-1" })));
    let created = futures_util::future::join_all(replays).await.iter().filter(|b| b["data"]["recordActivity"]["created"] == true).count();
    assert_eq!(created, 1);
    assert_eq!(totals(&app, &id).await["totalOrders"], 41);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_events_are_refused_and_write_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("bad") })).await;
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases = [
        (json!({ "type": "ORDER", "title": "x", "amount": -1.0 }), "input.amount"),
        (json!({ "type": "ORDER", "title": "x" }), "input.amount"),
        (json!({ "type": "EMAIL", "title": "x", "amount": 3.0 }), "input.amount"),
        (json!({ "type": "EMAIL", "title": "x", "occurredAt": future }), "input.occurredAt"),
        (json!({ "type": "PAGE_VIEW", "title": "x", "campaignId": "c" }), "input.campaignId"),
        (json!({ "type": "CUSTOM", "title": "x", "properties": { "blob": "x".repeat(17 * 1024) } }), "input.properties"),
        (json!({ "type": "CUSTOM", "title": "x", "properties": [1, 2] }), "input.properties"),
        (json!({ "type": "CUSTOM", "title": "  " }), "input.title"),
    ];
    for (input, path) in cases {
        let body = record(&app, &id, input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}");
        assert_eq!(error_path(&body), path, "{input}");
    }
    let unknown_type = record(&app, &id, json!({ "type": "TELEPATHY", "title": "x" })).await;
    assert_eq!(error_code(&unknown_type), "BAD_USER_INPUT");
    let timeline = app.gql(TIMELINE, json!({ "id": id })).await;
    assert_eq!(timeline["data"]["customer"]["activity"]["nodes"], json!([]));
    assert_eq!(totals(&app, &id).await["totalOrders"], 0);

    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());
    let body = record(&app, &missing, order(1.0, "2026-01-01T00:00:00Z")).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(error_path(&body), "customerId");
    let (_, other_key) = new_store("other", false).await;
    let foreign = app.gql_as(&other_key, RECORD, json!({ "id": id, "input": order(1.0, "2026-01-01T00:00:00Z") })).await;
    assert_eq!(error_code(&foreign), "NOT_FOUND");
    assert_eq!(totals(&app, &id).await["totalOrders"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_is_newest_first_with_filters_and_concrete_types() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("t") })).await;
    record(&app, &id, json!({ "type": "SUPPORT", "title": "Chat: Sizing question", "agent": "Whale Agent", "occurredAt": "2026-03-03T11:20:00Z" })).await;
    record(&app, &id, json!({ "type": "PAGE_VIEW", "title": "Viewed: /products/bag", "referrer": "https://google.com", "occurredAt": "2026-03-05T16:42:00Z" })).await;
    record(&app, &id, json!({ "type": "EMAIL", "title": "Opened: Spring Collection", "campaignId": "camp_x1y2z3", "occurredAt": "2026-03-06T09:15:00Z" })).await;
    record(&app, &id, order(289.0, "2026-03-08T14:30:00Z")).await;
    let titles = |body: &Value| -> Vec<String> {
        body["data"]["customer"]["activity"]["nodes"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap().to_owned()).collect()
    };
    let all = app.gql(TIMELINE, json!({ "id": id })).await;
    assert_eq!(titles(&all), ["ORDER", "EMAIL", "PAGE_VIEW", "SUPPORT"]);
    let some = app.gql(TIMELINE, json!({ "id": id, "types": ["ORDER", "EMAIL", "PAGE_VIEW"], "after": "2026-03-05T17:00:00Z" })).await;
    assert_eq!(titles(&some), ["ORDER", "EMAIL"]);
    let before = app.gql(TIMELINE, json!({ "id": id, "before": "2026-03-06" })).await;
    assert_eq!(titles(&before), ["PAGE_VIEW", "SUPPORT"]);
    let typed = app
        .gql("query($id: ID!) { customer(id: $id) { activity { nodes { __typename ... on SupportEvent { agent } ... on PageViewEvent { referrer } } } } }", json!({ "id": id }))
        .await;
    let nodes = &typed["data"]["customer"]["activity"]["nodes"];
    assert_eq!(nodes[0]["__typename"], "OrderEvent");
    assert_eq!(nodes[2]["referrer"], "https://google.com");
    assert_eq!(nodes[3]["agent"], "Whale Agent");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeline_cursors_are_stable_while_events_arrive() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("p") })).await;
    let events: Vec<Value> = (0..12)
        .map(|i| json!({ "customerId": id, "event": { "type": "PAGE_VIEW", "title": format!("view {i:02}"), "occurredAt": format!("2026-02-{:02}T10:00:00Z", i + 1) } }))
        .collect();
    let batch = app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await;
    assert_eq!(batch["data"]["recordActivities"]["createdCount"], 12);
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    for page in 0.. {
        let body = app.gql(TIMELINE, json!({ "id": id, "first": 5, "cursor": cursor })).await;
        assert_no_errors(&body);
        let activity = &body["data"]["customer"]["activity"];
        assert_eq!(activity["pageInfo"]["hasPreviousPage"], page > 0);
        seen.extend(activity["nodes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()));
        // Newer events arrive between pages; they belong before page one and never show up later.
        record(&app, &id, json!({ "type": "PAGE_VIEW", "title": format!("late {page}") })).await;
        if activity["pageInfo"]["hasNextPage"] != true {
            break;
        }
        cursor = activity["pageInfo"]["endCursor"].clone();
    }
    let expected: Vec<String> = (0..12).rev().map(|i| format!("view {i:02}")).collect();
    assert_eq!(seen, expected);
    let bad = app.gql(TIMELINE, json!({ "id": id, "cursor": "garbage" })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(error_path(&bad), "cursor");
}

const BATCH: &str = "mutation($e: [CustomerActivityInput!]!) {
  recordActivities(events: $e) { createdCount results { created event { id title } } }
}";

#[tokio::test(flavor = "multi_thread")]
async fn batches_are_all_or_nothing_and_idempotent() {
    let app = TestApp::spawn().await;
    let a = app.create_customer(json!({ "email": unique_email("a") })).await;
    let b = app.create_customer(json!({ "email": unique_email("b") })).await;
    let events = json!([
        { "customerId": a, "event": { "type": "ORDER", "title": "A1", "amount": 10.0, "externalId": "imp-a1" } },
        { "customerId": b, "event": { "type": "ORDER", "title": "B1", "amount": 20.0, "externalId": "imp-b1" } },
        { "customerId": a, "event": { "type": "ORDER", "title": "A1 again", "amount": 10.0, "externalId": "imp-a1" } },
        { "customerId": a, "event": { "type": "EMAIL", "title": "Welcome" } }
    ]);
    let body = app.gql(BATCH, json!({ "e": events })).await;
    assert_no_errors(&body);
    let payload = &body["data"]["recordActivities"];
    assert_eq!(payload["createdCount"], 3);
    assert_eq!(payload["results"][2]["created"], false);
    assert_eq!(payload["results"][2]["event"]["id"], payload["results"][0]["event"]["id"]);
    assert_eq!(totals(&app, &a).await["totalSpent"], 10.0);
    assert_eq!(totals(&app, &b).await["totalSpent"], 20.0);
    let again = app.gql(BATCH, json!({ "e": events })).await;
    assert_eq!(again["data"]["recordActivities"]["createdCount"], 1, "only the email without externalId is new");

    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());
    let with_unknown = json!([
        { "customerId": a, "event": { "type": "ORDER", "title": "A2", "amount": 5.0 } },
        { "customerId": missing, "event": { "type": "ORDER", "title": "X", "amount": 5.0 } }
    ]);
    let body = app.gql(BATCH, json!({ "e": with_unknown })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(error_path(&body), "events.1.customerId");
    let with_invalid = json!([
        { "customerId": a, "event": { "type": "ORDER", "title": "A3", "amount": 5.0 } },
        { "customerId": b, "event": { "type": "ORDER", "title": "B3", "amount": -5.0 } }
    ]);
    let body = app.gql(BATCH, json!({ "e": with_invalid })).await;
    assert_eq!(error_path(&body), "events.1.event.amount");
    assert_eq!(totals(&app, &a).await["totalSpent"], 10.0, "nothing half-applied");
    let too_many: Vec<Value> = (0..1001).map(|i| json!({ "customerId": a, "event": { "type": "CUSTOM", "title": format!("e{i}") } })).collect();
    let body = app.gql(BATCH, json!({ "e": too_many })).await;
    assert_eq!(error_path(&body), "events");
}
