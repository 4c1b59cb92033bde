//! Faults: PostgreSQL cut off under a burst of writes (503 `UNAVAILABLE` while it is away, full
//! recovery without a restart, every acknowledged write kept), a store's share of the pool
//! exhausted (503 with `Retry-After`, never `INTERNAL`), and one abusive request kept to its
//! share of connections while another store is served.

use crate::helpers::*;
use crate::proxy::Proxy;
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const CREATE_ONE: &str = "mutation($input: CustomerCreateInput!) { createCustomer(input: $input) { created customer { id } } }";

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_is_503_while_it_lasts_and_every_acknowledged_write_survives() {
    let proxy = Proxy::start(Proxy::target_of(&database_url())).await;
    let mut config = test_config();
    config.database.url = proxy.url(&database_url());
    config.database.connect_timeout_secs = 2;
    config.database.shares.wait = Duration::from_secs(2);
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let started = Instant::now();
    let (mut acknowledged, mut unavailable, mut after_restore) = (Vec::new(), 0, Vec::new());
    let mut phase = 0;
    while started.elapsed() < Duration::from_secs(7) {
        match (phase, started.elapsed().as_millis()) {
            (0, t) if t > 1_000 => {
                proxy.cut();
                phase = 1;
            }
            (1, t) if t > 3_000 => {
                proxy.restore();
                phase = 2;
            }
            _ => {}
        }
        let email = unique_email("outage");
        let response = app
            .client
            .post(app.url("/graphql"))
            .bearer_auth(&app.key)
            .json(&json!({ "query": CREATE_ONE, "variables": { "input": { "email": email } } }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: Value = response.json().await.unwrap();
        match status {
            200 => {
                assert_no_errors(&body);
                acknowledged.push(email);
            }
            503 => {
                assert_eq!(error_code(&body), "UNAVAILABLE", "{body}");
                assert_eq!(retry_after.unwrap(), "2");
                assert!(phase >= 1, "a 503 before the outage: {body}");
                unavailable += 1;
            }
            other => panic!("HTTP {other} during the outage: {body}"),
        }
        if phase == 2 && started.elapsed() > Duration::from_millis(5_000) {
            after_restore.push(status);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(unavailable > 0, "the outage was never seen");
    assert!(!after_restore.is_empty() && after_restore.iter().all(|s| *s == 200), "not recovered: {after_restore:?}");
    // every acknowledged write is there (read directly, not through the proxy)
    let mut conn = connection().await;
    for email in &acknowledged {
        let found: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM customers WHERE store_id = '{}' AND email = '{email}')",
            app.store.0
        )))
        .get_result(&mut conn)
        .await
        .unwrap();
        assert_eq!(found, 1, "{email} was acknowledged but is missing");
    }
    eprintln!("{} writes acknowledged, {unavailable} answered 503 during the outage", acknowledged.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_share_of_the_pool_is_503_with_retry_after() {
    let mut config = test_config();
    config.database.shares.per_store = 1;
    config.database.shares.wait = Duration::from_millis(300);
    let app = TestApp::spawn_with(config).await;
    let id = app.create_customer(json!({ "email": unique_email("held") })).await;
    let uuid = whale_crm::domain::ids::CustomerId::parse(&id).unwrap().0;
    // another session holds the row: an update waits for it, holding the store's connection
    let mut holder = connection().await;
    holder.batch_execute(&format!("BEGIN; SELECT 1 FROM customers WHERE id = '{uuid}' FOR UPDATE")).await.unwrap();
    let update = {
        let app_url = app.url("/graphql");
        let client = app.client.clone();
        let key = app.key.clone();
        tokio::spawn(async move {
            let query = "mutation($id: ID!) { updateCustomer(id: $id, input: { firstName: \"Held\" }) { customer { firstName } } }";
            client.post(app_url).bearer_auth(key).json(&json!({ "query": query, "variables": { "id": id } })).send().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&json!({ "query": "{ customers { totalCount } }" })).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "2");
    // like every API answer, neither cached nor sniffed, and with its request id
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "UNAVAILABLE");
    assert!(!body.to_string().contains("pool"), "{body}");
    holder.batch_execute("COMMIT").await.unwrap();
    let updated: Value = update.await.unwrap().json().await.unwrap();
    assert_eq!(updated["data"]["updateCustomer"]["customer"]["firstName"], "Held", "{updated}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abusive_request_keeps_to_its_share_and_other_stores_are_served() {
    let app = TestApp::spawn().await;
    let seeding = Instant::now();
    let loaded = whale_crm::seed::bulk::load(&mut connection().await, app.store, 300, whale_crm::seed::bulk::Events::Exactly(6), 7).await.unwrap();
    assert_eq!(loaded.customers, 300);
    eprintln!("seeded in {:?}", seeding.elapsed());
    let (_, other_key) = new_store("bystander", false).await;
    let rules = json!([{ "field": "activity", "operator": "gte", "value": { "count": 3, "title_contains": "x" } }]);
    let aliases: String = (0..80).map(|i| format!("a{i}: customers(first: 1, rules: $r) {{ totalCount }} ")).collect();
    let abusive = {
        let url = app.url("/graphql");
        let client = app.client.clone();
        let key = app.key.clone();
        let request = json!({ "query": format!("query($r: [SegmentRuleInput!]) {{ {aliases} }}"), "variables": { "r": rules } });
        tokio::spawn(async move { client.post(url).bearer_auth(key).json(&request).send().await.unwrap().json::<Value>().await.unwrap() })
    };
    // while it runs: this process's busy connections, and the bystander's latency
    let mut watcher = connection().await;
    let application = format!("whale-crm:{}", std::process::id());
    let (mut busiest, mut slowest, mut samples) = (0i64, Duration::ZERO, 0);
    while !abusive.is_finished() {
        let busy: i64 = diesel::dsl::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}' AND state = 'active')"
        )))
        .get_result(&mut watcher)
        .await
        .unwrap();
        busiest = busiest.max(busy);
        let started = Instant::now();
        let body = app.gql_as(&other_key, "{ customers(first: 5) { nodes { id } } }", json!({})).await;
        assert_no_errors(&body);
        slowest = slowest.max(started.elapsed());
        samples += 1;
    }
    let body = abusive.await.unwrap();
    assert!(body.get("errors").is_none() || error_code(&body) == "QUERY_TOO_COMPLEX", "{body}");
    eprintln!("{samples} samples: at most {busiest} busy connections; the bystander's slowest request took {slowest:?}");
    assert!(samples >= 3, "the abusive request ended too soon to tell ({samples} samples)");
    // the abusive request's two, and the bystander's own
    assert!(busiest <= 3, "{busiest} connections busy at once");
    assert!(slowest < Duration::from_secs(2), "the bystander waited {slowest:?}");
}
