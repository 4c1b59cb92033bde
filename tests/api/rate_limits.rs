//! Cost-based rate limiting: a key's bucket empties by what its operations cost, refuses with
//! 429 `RATE_LIMITED` and `Retry-After` when it holds too little, refunds what a page did not
//! use, is one bucket across server instances, follows its store's settings at once, and every
//! response reports `extensions.cost`.

use crate::helpers::*;
use serde_json::{Value, json};
use whale_crm::db::api_keys::{self, KeyOptions};
use whale_crm::db::stores;

const CREATE_ONE: &str = "mutation($input: CustomerCreateInput!) { createCustomer(input: $input) { created customer { id } } }";

async fn limit(app: &TestApp, bucket: i32, restore: i32) {
    assert!(stores::set_rate_limit(&mut connection().await, app.store, Some((bucket, restore))).await.unwrap());
}

async fn create(app: &TestApp) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(&app.key)
        .json(&json!({ "query": CREATE_ONE, "variables": { "input": { "email": unique_email("bucket") } } }))
        .send()
        .await
        .unwrap()
}

async fn customers(app: &TestApp) -> i64 {
    app.gql("{ customers { totalCount } }", json!({})).await["data"]["customers"]["totalCount"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_is_throttled_when_its_bucket_runs_dry() {
    let app = TestApp::spawn().await;
    limit(&app, 100, 1).await;
    // a mutation costs 10, its payload and customer 1 each: 12 points, 8 fit in 100
    for n in 0..8 {
        let response = create(&app).await;
        assert_eq!(response.status(), 200, "request {n}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 12);
        assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 12);
        assert_eq!(body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"], 100.0);
        assert_eq!(body["extensions"]["cost"]["throttleStatus"]["restoreRate"], 1.0);
    }
    let refused = create(&app).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((5..=9).contains(&retry_after), "Retry-After {retry_after}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], retry_after);
    assert!(body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_f64().unwrap() < 12.0, "{body}");
    assert!(body["extensions"]["cost"]["actualQueryCost"].is_null());
    // the refused mutation wrote nothing (the count itself costs 12, so make room first)
    limit(&app, 1000, 1000).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while create(&app).await.status() == 429 {
        assert!(std::time::Instant::now() < deadline, "the new limit never applied");
    }
    // the bucket refills at the new rate from the level it had
    while available(&app.gql("{ __typename }", json!({})).await) < 100.0 {
        assert!(std::time::Instant::now() < deadline, "the bucket never refilled");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(customers(&app).await, 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_query_costlier_than_the_bucket_is_refused_as_too_complex() {
    let app = TestApp::spawn().await;
    limit(&app, 100, 10).await;
    let body = app.gql("{ customers(first: 100) { nodes { id } } }", json!({})).await;
    assert_eq!(error_code(&body), "QUERY_TOO_COMPLEX");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("Query cost 102 exceeds the limit of 100"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn what_a_page_did_not_use_is_refunded() {
    let app = TestApp::spawn().await;
    limit(&app, 1000, 1).await;
    app.create_customer(json!({ "email": unique_email("one") })).await;
    // the create's own refund is given back in the next batch
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while available(&app.gql("{ __typename }", json!({})).await) < 987.0 {
        assert!(std::time::Instant::now() < deadline, "the create's refund never came");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let body = app.gql("{ customers(first: 250) { nodes { id } } }", json!({})).await;
    assert_no_errors(&body);
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 252);
    assert_eq!(cost["actualQueryCost"], 3);
    // 1000, less the customer created (12), less what the page cost (3), once the refunds on
    // their way (batched every 100 ms) have landed
    settles(&app, 984.0..=989.0).await;
    let again = app.gql("{ customers(first: 250) { nodes { id } } }", json!({})).await;
    assert_eq!(again["extensions"]["cost"]["actualQueryCost"], 3);
    settles(&app, 981.0..=987.0).await;
}

/// Waits until the key's bucket reads within `range` (refunds land in batches).
async fn settles(app: &TestApp, range: std::ops::RangeInclusive<f64>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        let left = available(&app.gql("{ __typename }", json!({})).await);
        if range.contains(&left) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the bucket reads {left}, not {range:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn available(body: &Value) -> f64 {
    body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"].as_f64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_share_one_bucket_per_key() {
    let app = TestApp::spawn().await;
    let other = app.another_instance(test_config()).await;
    limit(&app, 100, 1).await;
    for n in 0..4 {
        assert_eq!(create(&app).await.status(), 200, "request {n} on the first instance");
        assert_eq!(create(&other).await.status(), 200, "request {n} on the second instance");
    }
    assert_eq!(create(&other).await.status(), 429);
    assert_eq!(create(&app).await.status(), 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_limit_change_applies_at_once_on_every_instance() {
    let app = TestApp::spawn().await;
    let body = app.gql("{ customers { totalCount } }", json!({})).await;
    assert_eq!(body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"], 10_000_000.0);
    limit(&app, 500, 25).await;
    // the key's grant was cached: the announcement evicts it
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let body = app.gql("{ customers { totalCount } }", json!({})).await;
        if body["extensions"]["cost"]["throttleStatus"]["maximumAvailable"] == 500.0 {
            assert_eq!(body["extensions"]["cost"]["throttleStatus"]["restoreRate"], 25.0);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still the old bucket: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_can_be_turned_off_for_a_key() {
    let app = TestApp::spawn().await;
    let options = KeyOptions { read_only: false, introspection: false };
    let production = api_keys::issue_with(&mut connection().await, app.store, "production", options).await.unwrap();
    let refused = app.gql_as(&production, "{ __schema { types { name } } }", json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let refused = app.gql_as(&production, "{ __type(name: \"Customer\") { name } }", json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    let typename = app.gql_as(&production, "{ __typename customers { totalCount } }", json!({})).await;
    assert_no_errors(&typename);
    let allowed = app.gql("{ __schema { types { name } } }", json!({})).await;
    assert_no_errors(&allowed);
    assert_eq!(allowed["extensions"]["cost"]["requestedQueryCost"], 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn small_operations_spend_points_taken_ahead_and_give_back_what_is_left() {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Level {
        #[diesel(sql_type = diesel::sql_types::Double)]
        available: f64,
    }
    async fn stored(app: &TestApp) -> f64 {
        let query = format!("SELECT available FROM rate_limit_buckets WHERE store_id = '{}'", app.store.0);
        diesel::sql_query(query).get_result::<Level>(&mut connection().await).await.unwrap().available
    }
    let app = TestApp::spawn().await;
    limit(&app, 1000, 1).await;
    let mut last = Value::Null;
    for _ in 0..5 {
        last = create(&app).await.json().await.unwrap();
    }
    // five creates of 12 points: what the caller is told is exact
    let told = available(&last);
    assert!((939.0..=941.0).contains(&told), "{told}");
    // PostgreSQL was asked once: the first create took its 12 points and a tenth of the bucket
    // ahead, which the other four spent from
    let level = stored(&app).await;
    assert!((887.0..=891.0).contains(&level), "{level}");
    // and gives back what it did not spend within a second or so
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while stored(&app).await < 939.0 {
        assert!(std::time::Instant::now() < deadline, "points taken ahead were never given back");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
