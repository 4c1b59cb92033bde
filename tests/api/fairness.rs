//! Fair background work. Claims in a lane take turns over the stores and pass over a store at
//! its limit of running jobs; and through the real server, one store's flood of webhook
//! deliveries to a slow receiver, on top of a backlog of thousands of due deliveries, delays
//! neither another store's export nor its webhook deliveries beyond a bound, and an erasure is
//! taken before older webhook deliveries.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use whale_crm::db::job_claims::{self, Claim};
use whale_crm::db::jobs::{self, NewJob};
use whale_crm::domain::ids::{JobId, StoreId};

/// A lane (and kind) of this test's own, which no worker serves.
fn own_lane(name: &str) -> &'static str {
    Box::leak(format!("test.{name}.{}", uuid::Uuid::new_v4().simple()).into_boxed_str())
}

/// Queues `count` due jobs of `lane` for `store`.
async fn queue(store: StoreId, lane: &'static str, count: usize) {
    let mut conn = connection().await;
    for _ in 0..count {
        let job = NewJob { store, kind: lane, lane, payload: json!({}), dedupe_key: None, max_attempts: 3, run_at: None };
        jobs::enqueue(&mut conn, &job).await.unwrap();
    }
}

async fn claim_in(lane: &'static str, per_store: i32) -> Option<jobs::ClaimedJob> {
    let claim = Claim { worker: "test-fair-worker", lane, kinds: &[lane], per_store, lease_secs: 60.0 };
    job_claims::claim(&mut connection().await, &claim).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn stores_take_turns_in_a_lane_whoever_queued_first() {
    let lane = own_lane("turns");
    let mut stores = Vec::new();
    for n in 0..3 {
        let (store, _) = new_store(&format!("turns {n}"), false).await;
        // the first store's jobs are the oldest by far
        queue(store, lane, if n == 0 { 20 } else { 2 }).await;
        stores.push(store.0);
    }
    let mut served = Vec::new();
    for _ in 0..6 {
        let job = claim_in(lane, 1000).await.expect("a due job");
        assert!(jobs::succeed(&mut connection().await, JobId(job.id), "test-fair-worker").await.unwrap());
        served.push(job.store_id);
    }
    let first_round: std::collections::HashSet<_> = served[..3].iter().collect();
    assert_eq!(first_round.len(), 3, "each store once in the first round: {served:?}");
    assert_eq!(served[3..], served[..3], "then the same round again");
    // only the first store has jobs left: it is served on its own
    for _ in 0..3 {
        let job = claim_in(lane, 1000).await.expect("a due job");
        assert_eq!(job.store_id, stores[0]);
        jobs::succeed(&mut connection().await, JobId(job.id), "test-fair-worker").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_at_its_limit_of_running_jobs_is_passed_over() {
    let lane = own_lane("limit");
    let (busy, _) = new_store("busy", false).await;
    let (quiet, _) = new_store("quiet", false).await;
    queue(busy, lane, 5).await;
    queue(quiet, lane, 1).await;
    let first = claim_in(lane, 1).await.expect("a job");
    let second = claim_in(lane, 1).await.expect("another store's job");
    let mut both = [first.store_id, second.store_id];
    both.sort();
    let mut expected = [busy.0, quiet.0];
    expected.sort();
    assert_eq!(both, expected, "the quiet store is served while the busy one has a job running");
    assert!(claim_in(lane, 1).await.is_none(), "the busy store has due jobs but one running already");
    assert_eq!(claim_in(lane, 2).await.map(|j| j.store_id), Some(busy.0), "a higher limit lets a second run");
    let busy_job = [first, second].into_iter().find(|j| j.store_id == busy.0).unwrap();
    assert!(jobs::succeed(&mut connection().await, JobId(busy_job.id), "test-fair-worker").await.unwrap());
    assert!(claim_in(lane, 1).await.is_none(), "still one of the busy store's running");
    assert_eq!(claim_in(lane, 3).await.map(|j| j.store_id), Some(busy.0));
}

const REQUEST: &str = "mutation($id: ID!, $input: DataRequestInput!) { requestDataRemoval(customerId: $id, input: $input) { id status } }";
const READ: &str = "query($id: ID!) { dataRequest(id: $id) { id status } }";

/// How long a slow receiver takes to answer each delivery.
const SLOW: Duration = Duration::from_secs(3);

/// Store A's flood: an endpoint whose receiver answers after `SLOW`, `slow` deliveries to it,
/// then `backlog` more due deliveries queued straight into the jobs table (they name deliveries
/// that are gone, so each is a quick no-op once claimed). Returns the receiver (kept alive).
async fn flood(app: &TestApp, slow: usize, backlog: usize) -> WebhookReceiver {
    let receiver = WebhookReceiver::start(vec![Reply { delay: SLOW, ..Reply::status(200) }; slow]).await;
    app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED"]).await;
    for n in 0..slow {
        app.create_customer(json!({ "email": unique_email(&format!("flood{n}")) })).await;
    }
    execute_sql(&format!(
        "INSERT INTO jobs (id, store_id, kind, lane, payload, max_attempts) \
         SELECT gen_random_uuid(), '{}', 'webhook.deliver', 'webhooks', jsonb_build_object('delivery', 'whdel_' || replace(gen_random_uuid()::text, '-', '')), 14 \
         FROM generate_series(1, {backlog})",
        app.store.0
    ))
    .await;
    receiver
}

/// Drops what is left of a store's flood, so it does not outlive its test.
async fn clear(store: StoreId) {
    execute_sql(&format!("DELETE FROM jobs WHERE store_id = '{}'", store.0)).await;
}

/// A second store on the same server: its key, and a customer of its own.
async fn other_store(app: &TestApp) -> (String, String) {
    let (_, key) = new_store("fairness B", false).await;
    let body = app.gql_as(&key, CREATE, json!({ "input": { "email": unique_email("b") } })).await;
    assert_no_errors(&body);
    (key, body["data"]["createCustomer"]["customer"]["id"].as_str().unwrap().to_owned())
}

/// Polls the data request until it is COMPLETED; how long that took, or None after `within`.
async fn completed_within(app: &TestApp, key: &str, id: &str, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    loop {
        let body: Value = app.gql_as(key, READ, json!({ "id": id })).await;
        assert_no_errors(&body);
        if body["data"]["dataRequest"]["status"] == "COMPLETED" {
            return Some(started.elapsed());
        }
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_slow_webhooks_does_not_delay_another_stores_export() {
    let app = TestApp::spawn().await;
    let _receiver = flood(&app, 8, 5_000).await;
    let (key, customer) = other_store(&app).await;
    let started = Instant::now();
    let export = app.gql_as(&key, REQUEST, json!({ "id": customer, "input": { "type": "EXPORT" } })).await;
    assert_no_errors(&export);
    let id = export["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    let took = completed_within(&app, &key, &id, Duration::from_secs(60)).await;
    eprintln!("store B's export with store A's flood queued: {took:?} (from the request: {:?})", started.elapsed());
    clear(app.store).await;
    let took = took.expect("the export completes");
    assert!(took < Duration::from_secs(10), "store B's export took {took:?} behind store A's flood");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backlog_of_one_store_does_not_delay_another_stores_deliveries() {
    let app = TestApp::spawn().await;
    let _flood = flood(&app, 8, 5_000).await;
    let (key, _) = other_store(&app).await;
    let mut receiver = WebhookReceiver::start(vec![]).await;
    let endpoint = app.gql_as(&key, CREATE_ENDPOINT, json!({ "input": { "url": receiver.url, "events": ["CUSTOMER_CREATED"] } })).await;
    assert_no_errors(&endpoint);
    let started = Instant::now();
    assert_no_errors(&app.gql_as(&key, CREATE, json!({ "input": { "email": unique_email("b2") } })).await);
    let arrived = tokio::time::timeout(Duration::from_secs(60), receiver.received.recv()).await.ok().flatten().map(|_| started.elapsed());
    eprintln!("store B's delivery with store A's flood queued: {arrived:?}");
    clear(app.store).await;
    let took = arrived.expect("store B's delivery arrives");
    assert!(took < Duration::from_secs(10), "store B's delivery took {took:?} behind store A's flood");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_is_taken_before_older_webhook_deliveries() {
    erasure_before_older_deliveries(TestApp::spawn().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_one_worker_an_erasure_waits_only_for_the_running_delivery() {
    let mut config = test_config();
    config.jobs.workers = 1;
    erasure_before_older_deliveries(TestApp::spawn_with(config).await).await;
}

/// An erasure requested after six deliveries to a slow receiver completes before most of them
/// (with one worker, once the delivery being sent is done).
async fn erasure_before_older_deliveries(app: TestApp) {
    let erased = app.create_customer(json!({ "email": unique_email("erased") })).await;
    // older work: deliveries to a slow receiver, queued before the erasure
    let _receiver = flood(&app, 6, 0).await;
    let started = Instant::now();
    let erasure = app.gql(REQUEST, json!({ "id": erased, "input": { "type": "ERASURE" } })).await;
    assert_no_errors(&erasure);
    let id = erasure["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    let took = completed_within(&app, &app.key, &id, Duration::from_secs(60)).await;
    let pending: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use whale_crm::db::schema::webhook_deliveries as d;
        d::table.filter(d::store_id.eq(app.store.0).and(d::status.eq("PENDING"))).count().get_result(&mut connection().await).await.unwrap()
    };
    eprintln!("erasure behind 6 slow deliveries: {took:?} (from the request: {:?}); deliveries still pending then: {pending}", started.elapsed());
    clear(app.store).await;
    let took = took.expect("the erasure completes");
    assert!(took < SLOW * 2, "the erasure took {took:?}");
    assert!(pending >= 3, "the erasure waited for the older deliveries ({pending} left)");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_queued_without_a_lane_by_an_older_server_is_still_claimed() {
    let (store, _) = new_store("older writer", false).await;
    let kind = own_lane("older");
    // what the server before lanes inserted: no lane, no turn row
    execute_sql(&format!(
        "INSERT INTO jobs (id, store_id, kind, payload, max_attempts) VALUES ('{}', '{}', '{kind}', '{{}}', 3)",
        uuid::Uuid::new_v4(),
        store.0
    ))
    .await;
    let claim = Claim { worker: "test-fair-worker", lane: "maintenance", kinds: &[kind], per_store: 1000, lease_secs: 60.0 };
    let job = job_claims::claim(&mut connection().await, &claim).await.unwrap().expect("claimed in the lane its kind falls in");
    assert_eq!(job.store_id, store.0);
    assert!(jobs::succeed(&mut connection().await, JobId(job.id), "test-fair-worker").await.unwrap());
}
