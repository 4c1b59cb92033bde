//! A worker process killed with SIGKILL in the middle of a job: the job is neither lost nor done
//! twice — its lease runs out, another worker takes it over and finishes it. (These tests run
//! alone: no other test's workers can take the jobs.)

use crate::helpers::*;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::time::Duration;
use tokio::process::Child;
use whale_crm::db::schema::{jobs, metrics_models};
use whale_crm::domain::ids::JobId;

fn worker() -> Child {
    whale_command(&["worker", "--count", "1"]).env("WHALE_JOB_LEASE_SECS", "2").env("WHALE_JOBS_POLL_MS", "100").spawn().expect("worker starts")
}

/// (state, attempts, locked_by) of the job.
async fn job_row(id: JobId) -> (String, i32, Option<String>) {
    jobs::table.find(id.0).select((jobs::state, jobs::attempts, jobs::locked_by)).first(&mut connection().await).await.expect("job")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_survives_its_worker_being_killed() {
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let mut conn = connection().await;
    // enough buyers that the fit takes a while
    let loaded = whale_crm::seed::bulk::load(&mut conn, app.store, 4000, whale_crm::seed::bulk::Events::Natural, 7).await.expect("seed");
    assert!(loaded.events > 0);
    let job = whale_crm::jobs::metrics::enqueue_refit(&mut conn, app.store).await.expect("enqueue");

    let mut first = worker();
    let pid = first.id().expect("running");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (state, _, locked_by) = job_row(job).await;
        if state == "running" && locked_by.as_deref().is_some_and(|w| w.starts_with(&format!("{pid}-"))) {
            break;
        }
        assert_eq!(state, "queued", "the first worker has not finished it already");
        assert!(tokio::time::Instant::now() < deadline, "the worker never claimed the job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.kill().await.expect("SIGKILL");
    let (state, attempts, _) = job_row(job).await;
    assert_eq!((state.as_str(), attempts), ("running", 1), "killed mid-job: no outcome recorded");

    let _second = worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (state, attempts, _) = job_row(job).await;
        if state == "succeeded" {
            assert_eq!(attempts, 2, "taken over once, finished once");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the job was not finished after the restart: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let models: i64 = metrics_models::table.filter(metrics_models::store_id.eq(app.store.0)).count().get_result(&mut conn).await.expect("count");
    assert_eq!(models, 1, "one fitted model, not two");
    let refits: i64 =
        jobs::table.filter(jobs::store_id.eq(app.store.0).and(jobs::kind.eq("metrics.refit"))).count().get_result(&mut conn).await.expect("count");
    assert_eq!(refits, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_delivery_survives_its_worker_being_killed() {
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let mut hanging = Reply::status(200);
    hanging.delay = Duration::from_secs(60);
    let mut receiver = WebhookReceiver::start(vec![hanging]).await;
    let (endpoint, _) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED"]).await;
    app.create_customer(serde_json::json!({ "email": unique_email("crash") })).await;

    let mut first = worker();
    let sent = receiver.next_within(30).await;
    first.kill().await.expect("SIGKILL");
    let log = "query($id: ID!) { webhookEndpoint(id: $id) { deliveries { nodes { status attempts eventId } } } }";
    let before = app.gql(log, serde_json::json!({ "id": endpoint })).await;
    let delivery = &before["data"]["webhookEndpoint"]["deliveries"]["nodes"][0];
    assert_eq!((delivery["status"].as_str(), delivery["attempts"].as_i64()), (Some("PENDING"), Some(0)), "killed mid-attempt: nothing recorded");

    let _second = worker();
    let resent = receiver.next_within(30).await;
    assert_eq!(resent.body, sent.body, "the same event again");
    assert_eq!(resent.headers.get("whale-event-id"), sent.headers.get("whale-event-id"), "receivers can tell it is a repeat");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let after = app.gql(log, serde_json::json!({ "id": endpoint })).await;
        let nodes = after["data"]["webhookEndpoint"]["deliveries"]["nodes"].as_array().cloned().unwrap_or_default();
        if nodes.as_slice().first().is_some_and(|d| d["status"] == "SUCCEEDED") {
            assert_eq!((nodes.len(), nodes[0]["attempts"].as_i64()), (1, Some(1)), "one delivery, one recorded attempt");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never delivered after the restart: {after}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!receiver.gets_something_within(1500).await, "delivered once after the restart, not again");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_survives_its_worker_being_killed_inside_its_transaction() {
    use whale_crm::db::schema::data_requests;
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let mut receiver = WebhookReceiver::start(vec![]).await;
    app.create_endpoint(&receiver.url, &["DATA_REQUEST_COMPLETED"]).await;
    let customer = app.create_customer(serde_json::json!({ "email": unique_email("crash") })).await;
    let customer_uuid = whale_crm::domain::ids::CustomerId::parse(&customer).unwrap().0;

    // Hold the customer's row, so the erasure's transaction blocks on it half-way.
    let mut lock = connection().await;
    diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
    diesel::sql_query(format!("SELECT 1 FROM customers WHERE id = '{customer_uuid}' FOR UPDATE")).execute(&mut lock).await.unwrap();
    let made = app
        .gql("mutation($id: ID!) { requestDataRemoval(customerId: $id, input: { type: ERASURE }) { id } }", serde_json::json!({ "id": customer }))
        .await;
    let request = whale_crm::domain::ids::DataRequestId::parse(made["data"]["requestDataRemoval"]["id"].as_str().unwrap()).unwrap();
    let job: uuid::Uuid = data_requests::table
        .filter(data_requests::id.eq(request.0))
        .select(data_requests::job_id.assume_not_null())
        .first(&mut connection().await)
        .await
        .unwrap();

    let mut first = worker();
    let pid = first.id().expect("running");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !job_row(JobId(job)).await.2.is_some_and(|w| w.starts_with(&format!("{pid}-"))) {
        assert!(tokio::time::Instant::now() < deadline, "the worker never claimed the erasure");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // it gets as far as deleting the customer row (inside its transaction) and waits there
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'DELETE FROM%customers%'",
        )
        .get_result(&mut connection().await)
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the erasure never reached the customer row");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = app.gql("query($id: ID!) { dataRequest(id: $id) { status } }", serde_json::json!({ "id": request.to_string() })).await;
    assert_eq!(status["data"]["dataRequest"]["status"], "PROCESSING");
    first.kill().await.expect("SIGKILL");
    diesel::sql_query("ROLLBACK").execute(&mut lock).await.unwrap();

    let _second = worker();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (state, attempts, _) = job_row(JobId(job)).await;
        if state == "succeeded" {
            assert_eq!(attempts, 2, "taken over once, finished once");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the erasure was not finished after the restart: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let read = app.gql("query($id: ID!, $c: ID!) { dataRequest(id: $id) { status } customer(id: $c) { id } }", serde_json::json!({ "id": request.to_string(), "c": customer })).await;
    assert_eq!(read["data"], serde_json::json!({ "dataRequest": { "status": "COMPLETED" }, "customer": null }));
    let completed: serde_json::Value = serde_json::from_str(&receiver.next_within(30).await.body).unwrap();
    assert_eq!((completed["event"].as_str(), completed["data"]["id"].as_str()), (Some("data_request.completed"), Some(request.to_string().as_str())));
    assert!(!receiver.gets_something_within(1500).await, "completed once: one event");
}
