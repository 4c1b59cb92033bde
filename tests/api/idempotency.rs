//! `Idempotency-Key` on mutations over HTTP: a retry replays the first response and changes
//! nothing; another body with the same key, or a retry while the first still runs, is a
//! conflict; keys belong to their store; a request that did not run keeps nothing; an erasure
//! deletes the records about its customer.

use crate::helpers::*;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};

const ORDER: &str = "mutation($id: ID!) { recordActivity(customerId: $id, input: { type: ORDER, title: \"Order\", amount: 10.0 }) { event { id } customer { totalOrders totalSpent } } }";

async fn post(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client.post(app.url("/graphql")).bearer_auth(&app.key).header("Idempotency-Key", key).json(body).send().await.unwrap()
}

async fn records(app: &TestApp) -> i64 {
    diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("(SELECT count(*) FROM idempotency_keys WHERE store_id = '{}')", app.store.0)))
        .get_result(&mut connection().await)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_mutation_replays_its_first_response_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("retry") })).await;
    let body = json!({ "query": ORDER, "variables": { "id": id } });
    let first = post(&app, "order-1047", &body).await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert_no_errors(&first);
    for _ in 0..3 {
        let again = post(&app, "order-1047", &body).await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        assert!(again.headers().contains_key("x-request-id"));
        let again: Value = again.json().await.unwrap();
        assert_eq!(again, first);
    }
    let totals = app.gql("query($id: ID!) { customer(id: $id) { totalOrders totalSpent } }", json!({ "id": id })).await;
    assert_eq!(totals["data"]["customer"]["totalOrders"], 1, "{totals}");
    // another body with the same key is a conflict
    let other = json!({ "query": ORDER, "variables": { "id": id }, "operationName": null });
    let conflict = post(&app, "order-1047", &other).await;
    assert_eq!(conflict.status(), 409);
    let conflict: Value = conflict.json().await.unwrap();
    assert_eq!(error_code(&conflict), "CONFLICT");
    assert!(conflict["errors"][0]["message"].as_str().unwrap().contains("another request body"));
    // a key of another store is its own
    let (_, other_key) = new_store("idempotent elsewhere", false).await;
    let elsewhere = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&other_key)
        .header("Idempotency-Key", "order-1047")
        .json(&json!({ "query": CREATE, "variables": { "input": { "email": unique_email("elsewhere") } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 200);
    assert!(elsewhere.headers().get("idempotent-replayed").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retry_while_the_first_request_runs_is_a_conflict() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("inflight") })).await;
    let uuid = whale_crm::domain::ids::CustomerId::parse(&id).unwrap().0;
    let mut holder = connection().await;
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM customers WHERE id = '{uuid}' FOR UPDATE")).await.unwrap();
    let body = json!({ "query": "mutation($id: ID!) { updateCustomer(id: $id, input: { firstName: \"Once\" }) { customer { firstName } } }", "variables": { "id": id } });
    let first = {
        let (client, url, key, body) = (app.client.clone(), app.url("/graphql"), app.key.clone(), body.clone());
        tokio::spawn(async move { client.post(url).bearer_auth(key).header("Idempotency-Key", "rename-1").json(&body).send().await.unwrap() })
    };
    // once the first has claimed the key
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while records(&app).await == 0 {
        assert!(std::time::Instant::now() < deadline, "the key was never claimed");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let retry = post(&app, "rename-1", &body).await;
    assert_eq!(retry.status(), 409);
    let retry: Value = retry.json().await.unwrap();
    assert!(retry["errors"][0]["message"].as_str().unwrap().contains("still running"), "{retry}");
    holder.batch_execute("COMMIT").await.unwrap();
    let first: Value = first.await.unwrap().json().await.unwrap();
    assert_eq!(first["data"]["updateCustomer"]["customer"]["firstName"], "Once");
    let replay = post(&app, "rename-1", &body).await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_that_did_not_run_keeps_nothing_and_bad_keys_are_refused() {
    let app = TestApp::spawn().await;
    assert!(whale_crm::db::stores::set_rate_limit(&mut connection().await, app.store, Some((20, 1))).await.unwrap());
    // 11 points each: two do not fit in 20
    let create = |email: String| json!({ "query": "mutation($input: CustomerCreateInput!) { createCustomer(input: $input) { created } }", "variables": { "input": { "email": email } } });
    assert_eq!(post(&app, "first", &create(unique_email("a"))).await.status(), 200);
    let email = unique_email("limited");
    let limited = post(&app, "second", &create(email.clone())).await;
    assert_eq!(limited.status(), 429);
    assert!(whale_crm::db::stores::set_rate_limit(&mut connection().await, app.store, None).await.unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let retried = loop {
        let retried = post(&app, "second", &create(email.clone())).await;
        if retried.status() != 429 {
            break retried;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(retried.status(), 200);
    assert!(retried.headers().get("idempotent-replayed").is_none(), "the 429 was kept");
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["data"]["createCustomer"]["created"], true, "{retried}");
    // queries keep nothing; bad keys are refused
    let query = post(&app, "a-query", &json!({ "query": "{ customers { totalCount } }" })).await;
    assert_eq!(query.status(), 200);
    assert_eq!(records(&app).await, 2);
    let bad = post(&app, &"k".repeat(300), &create(unique_email("b"))).await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_deletes_the_records_about_its_customer() {
    let app = TestApp::spawn().await;
    let email = unique_email("forget-me");
    let created = post(&app, "signup", &json!({ "query": "mutation($e: String!) { createCustomer(input: { email: $e }) { customer { email } } }", "variables": { "e": email } })).await;
    assert_eq!(created.status(), 200);
    let id = app.gql("query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": email })).await["data"]["customerByEmail"]["id"].as_str().unwrap().to_owned();
    let note = json!({ "query": "mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"VIP\") { id } }", "variables": { "id": id } });
    assert_eq!(post(&app, "note", &note).await.status(), 200);
    let other = app.create_customer(json!({ "email": unique_email("stays") })).await;
    let kept = json!({ "query": "mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"stays\") { id } }", "variables": { "id": other } });
    assert_eq!(post(&app, "kept", &kept).await.status(), 200);
    assert_eq!(records(&app).await, 3);
    let request = app.gql("mutation($id: ID!) { requestDataRemoval(customerId: $id, input: { type: ERASURE }) { id } }", json!({ "id": id })).await;
    assert_no_errors(&request);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while records(&app).await != 1 {
        assert!(std::time::Instant::now() < deadline, "the erasure left idempotent responses about the customer");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
