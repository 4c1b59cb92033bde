//! Bad input is the caller's error, answered `BAD_USER_INPUT` at the argument path it sits at,
//! never `INTERNAL`, and nothing is written: NUL characters (which PostgreSQL's text and jsonb
//! refuse) in every place one used to reach the database, hand-made cursors whose value does
//! not fit their sort, and amounts past the money limit.

use crate::activity::{RECORD, record};
use crate::helpers::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use serde_json::{Value, json};

/// What a store holds, to show a refused request wrote nothing.
#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Written {
    #[diesel(sql_type = BigInt)]
    customers: i64,
    #[diesel(sql_type = BigInt)]
    events: i64,
    #[diesel(sql_type = BigInt)]
    segments: i64,
    #[diesel(sql_type = BigInt)]
    total_spent: i64,
    #[diesel(sql_type = BigInt)]
    updated: i64,
}

async fn written(app: &TestApp) -> Written {
    let store = app.store.0;
    diesel::sql_query(format!(
        "SELECT (SELECT count(*) FROM customers WHERE store_id = '{store}') AS customers, \
                (SELECT count(*) FROM activity_events WHERE store_id = '{store}') AS events, \
                (SELECT count(*) FROM segments WHERE store_id = '{store}') AS segments, \
                (SELECT coalesce(sum(total_spent), 0)::int8 FROM customers WHERE store_id = '{store}') AS total_spent, \
                (SELECT coalesce(sum(extract(epoch FROM updated_at) * 1000000), 0)::int8 FROM customers WHERE store_id = '{store}') AS updated"
    ))
    .get_result(&mut connection().await)
    .await
    .expect("counts")
}

/// Sends `query` with `variables` and asserts it is refused as `BAD_USER_INPUT` at `path` with
/// nothing written.
async fn refused_at(app: &TestApp, query: &str, variables: Value, path: &str) -> Value {
    let before = written(app).await;
    let body = app.gql(query, variables).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    assert_eq!(error_path(&body), path, "{body:#}");
    assert_eq!(written(app).await, before, "a refused request wrote something: {body:#}");
    body
}

const NUL: &str = "bad\u{0}value";

#[tokio::test(flavor = "multi_thread")]
async fn nul_characters_are_refused_at_their_argument_path() {
    let app = TestApp::spawn().await;
    let customer = app.create_customer(json!({ "email": unique_email("nul"), "metadata": { "source": "web" } })).await;

    // 1. customerByEmail, inline and as a variable
    refused_at(&app, r#"{ customerByEmail(email: "a\u0000@b.co") { id } }"#, json!({}), "email").await;
    refused_at(&app, "query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": NUL }), "email").await;
    // 2. metadata values on create and 3. on update
    refused_at(&app, CREATE, json!({ "input": { "email": unique_email("nul"), "metadata": { "source": NUL } } }), "input.metadata.source").await;
    let update = "mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) { customer { metadata } } }";
    refused_at(&app, update, json!({ "id": customer, "input": { "metadata": { "source": NUL } } }), "input.metadata.source").await;
    // 4. activity properties, 5. in a batch (in a nested key's value)
    let event = json!({ "type": "CUSTOM", "title": "Viewed", "properties": { "note": NUL } });
    refused_at(&app, RECORD, json!({ "id": customer, "input": event }), "input.properties.note").await;
    let batch = "mutation($events: [CustomerActivityInput!]!) { recordActivities(events: $events) { createdCount } }";
    let events = json!([
        { "customerId": customer, "event": { "type": "CUSTOM", "title": "Fine" } },
        { "customerId": customer, "event": { "type": "CUSTOM", "title": "Viewed", "properties": { "page": { "q": NUL } } } },
    ]);
    refused_at(&app, batch, json!({ "events": events }), "events.1.event.properties.page.q").await;
    // 6. a segment rule's value
    let create_segment = "mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id } }";
    let segment = json!({ "name": "Nul", "type": "DYNAMIC", "rules": [{ "field": "first_name", "operator": "eq", "value": NUL }] });
    refused_at(&app, create_segment, json!({ "input": segment }), "input.rules.0.value").await;
    // 7. a rule value in a list filter, 8. a `metadata.<key>` rule field
    let list = "query($rules: [SegmentRuleInput!], $metadata: JSON) { customers(rules: $rules, metadata: $metadata) { totalCount } }";
    refused_at(&app, list, json!({ "rules": [{ "field": "email", "operator": "contains", "value": NUL }] }), "rules.0.value").await;
    refused_at(&app, list, json!({ "rules": [{ "field": format!("metadata.{NUL}"), "operator": "exists" }] }), "rules.0.field").await;
    // 9. customers(metadata:), in a value and in a key
    refused_at(&app, list, json!({ "metadata": { "source": NUL } }), "metadata.source").await;
    refused_at(&app, list, json!({ "metadata": { "so\u{0}urce": "web" } }), "metadata.so\\0urce").await;
    // inline in the document too
    refused_at(&app, r#"{ customers(metadata: {source: "a\u0000"}) { totalCount } }"#, json!({}), "metadata.source").await;

    let body = app.gql("query($id: ID!) { customer(id: $id) { metadata } }", json!({ "id": customer })).await;
    assert_eq!(body["data"]["customer"]["metadata"], json!({ "source": "web" }));
}

fn cursor(payload: Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn cursors_whose_value_does_not_fit_their_sort_are_refused() {
    let app = TestApp::spawn().await;
    let customer = app.create_customer(json!({ "email": unique_email("cursor") })).await;
    record(&app, &customer, json!({ "type": "ORDER", "title": "Order", "amount": 10.0 })).await;
    let list = "query($sort: CustomerSortKey, $after: String) { customers(sort: $sort, order: DESC, first: 5, after: $after) { nodes { id } } }";
    let id = uuid::Uuid::new_v4();
    let cases = [
        // 10. text where the sort holds amounts
        ("TOTAL_SPENT", json!({ "o": "TotalSpent:Desc", "v": { "t": "Text", "v": "lots" }, "id": id })),
        // 11. a number where it holds times, a time past what PostgreSQL holds, a null for a
        // sort without nulls, text with a NUL for the email sort
        ("CREATED_AT", json!({ "o": "CreatedAt:Desc", "v": { "t": "Int", "v": 5 }, "id": id })),
        ("CREATED_AT", json!({ "o": "CreatedAt:Desc", "v": { "t": "Time", "v": i64::MAX }, "id": id })),
        ("CREATED_AT", json!({ "o": "CreatedAt:Desc", "v": { "t": "Null" }, "id": id })),
        ("EMAIL", json!({ "o": "Email:Desc", "v": { "t": "Text", "v": "a\u{0}" }, "id": id })),
        // malformed, and made for another order
        ("TOTAL_SPENT", json!({ "o": "TotalSpent:Desc", "v": { "t": "Int", "v": "x" }, "id": id })),
        ("TOTAL_SPENT", json!({ "o": "CreatedAt:Desc", "v": { "t": "Time", "v": 0 }, "id": id })),
    ];
    for (sort, payload) in cases {
        refused_at(&app, list, json!({ "sort": sort, "after": cursor(payload) }), "after").await;
    }
    // a timeline's cursor with a time PostgreSQL cannot hold
    let timeline = "query($id: ID!, $c: String) { customer(id: $id) { activity(first: 5, cursor: $c) { nodes { id } } } }";
    let far = cursor(json!({ "t": -(1_i64 << 62), "id": id }));
    let body = app.gql(timeline, json!({ "id": customer, "c": far })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
    // a cursor the list made still works
    let page = app.gql(list, json!({ "sort": "TOTAL_SPENT" })).await;
    assert_no_errors(&page);
}

async fn spent(app: &TestApp, customer: &str) -> (String, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&app.key)
        .json(&json!({ "query": "query($id: ID!) { customer(id: $id) { totalSpent totalOrders } }", "variables": { "id": customer } }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&response).unwrap();
    (response, body["data"]["customer"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn money_is_bounded_and_shown_exactly() {
    let app = TestApp::spawn().await;
    let customer = app.create_customer(json!({ "email": unique_email("money") })).await;
    // 12. one amount past the limit
    let order = |amount: f64| json!({ "type": "ORDER", "title": "Big order", "amount": amount });
    let body = refused_at(&app, RECORD, json!({ "id": customer, "input": order(1e14) }), "input.amount").await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("100000000000"), "{body:#}");
    // 13. orders that together pass the limit on a customer's total: the one that would is
    // refused, in the same transaction, and the totals stay as they were
    let body = record(&app, &customer, order(99_999_999_999.99)).await;
    assert_no_errors(&body);
    let (text, totals) = spent(&app, &customer).await;
    assert_eq!(totals, json!({ "totalSpent": 99_999_999_999.99, "totalOrders": 1 }));
    assert!(text.contains("99999999999.99") && !text.contains("e+"), "{text}");
    refused_at(&app, RECORD, json!({ "id": customer, "input": order(0.02) }), "input.amount").await;
    let batch = "mutation($events: [CustomerActivityInput!]!) { recordActivities(events: $events) { createdCount } }";
    let events: Vec<Value> = (0..3).map(|_| json!({ "customerId": customer, "event": order(50_000_000_000.0) })).collect();
    refused_at(&app, batch, json!({ "events": events }), "events.0.event.amount").await;
    // the last cent fits exactly
    assert_no_errors(&record(&app, &customer, order(0.01)).await);
    let (text, totals) = spent(&app, &customer).await;
    assert_eq!(totals, json!({ "totalSpent": 100_000_000_000.0, "totalOrders": 2 }));
    assert!(!text.contains("e+"), "{text}");
    // a rule's amount is bounded the same way
    let list = "query($rules: [SegmentRuleInput!]) { customers(rules: $rules) { totalCount } }";
    refused_at(&app, list, json!({ "rules": [{ "field": "total_spent", "operator": "gte", "value": 1e300 }] }), "rules.0.value").await;
}
