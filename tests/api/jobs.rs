//! The durable job queue: deduplication, SKIP LOCKED claims (their fairness is `fairness`'), leases taken over when a worker
//! dies, fenced outcomes, retries with backoff, NOTIFY wake-ups, and refits run as jobs.

use crate::helpers::*;
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;
use whale_crm::db::job_claims::{self, Claim};
use whale_crm::db::jobs::{self, NewJob};
use whale_crm::domain::ids::{JobId, StoreId};

fn job(store: StoreId, kind: &'static str, dedupe_key: Option<&str>) -> NewJob {
    NewJob { store, kind, lane: kind, payload: json!({}), dedupe_key: dedupe_key.map(str::to_owned), max_attempts: 3, run_at: None }
}

/// Tests of the raw queue use kinds (and lanes) of their own, which no worker claims (workers
/// claim only the kinds they can run), so other tests' workers leave these jobs to the test;
/// `unique` makes the kind this run's alone.
fn unique(kind: &str, store: StoreId) -> &'static str {
    Box::leak(format!("{kind}.{store}").into_boxed_str())
}

/// A claim of `kind` in its own lane, with no limit per store that matters.
fn claim_of<'a>(worker: &'a str, kind: &'a [&'a str]) -> Claim<'a> {
    Claim { worker, lane: kind[0], kinds: kind, per_store: 1000, lease_secs: 60.0 }
}

fn later(store: StoreId, kind: &'static str) -> NewJob {
    NewJob { run_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)), ..job(store, kind, None) }
}

async fn make_due(id: JobId) {
    execute_sql(&format!("UPDATE jobs SET run_at = now() - interval '1 second' WHERE id = '{}'", id.0)).await;
}

async fn status(id: JobId) -> jobs::JobStatus {
    jobs::status(&mut connection().await, id).await.expect("status").expect("job exists")
}

/// Polls until the job reaches `state` (or panics after `within`).
async fn wait_for_state(id: JobId, state: &str, within: Duration) -> jobs::JobStatus {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = status(id).await;
        if now.state == state {
            return now;
        }
        assert!(tokio::time::Instant::now() < deadline, "job {id} is {now:?}, not {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_job_is_not_queued_twice() {
    let (store, _) = new_store("dedupe", false).await;
    let mut conn = connection().await;
    let first = jobs::enqueue(&mut conn, &later(store, "test.dedupe")).await.unwrap();
    let keyed = NewJob { dedupe_key: Some("k".into()), ..later(store, "test.dedupe") };
    let a = jobs::enqueue(&mut conn, &keyed).await.unwrap();
    let b = jobs::enqueue(&mut conn, &keyed).await.unwrap();
    assert_eq!(a, b, "same key while queued: the queued job");
    assert_ne!(a, first, "no key: a job of its own");
    let other = jobs::enqueue(&mut conn, &NewJob { dedupe_key: Some("other".into()), ..keyed.clone() }).await.unwrap();
    assert_ne!(a, other);
    // once it runs, a new one may be queued (the running one may have read older data)
    make_due(a).await;
    execute_sql(&format!("UPDATE jobs SET state = 'running', locked_by = 'w', locked_until = now() + interval '1 hour' WHERE id = '{}'", a.0)).await;
    let c = jobs::enqueue(&mut conn, &keyed).await.unwrap();
    assert_ne!(a, c);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_claimers_each_get_different_jobs() {
    let (store, _) = new_store("skip locked", false).await;
    let mut conn = connection().await;
    let kind = unique("test.skip_locked", store);
    let mut ids = HashSet::new();
    for _ in 0..40 {
        ids.insert(jobs::enqueue(&mut conn, &later(store, kind)).await.unwrap());
    }
    execute_sql(&format!("UPDATE jobs SET run_at = now() - interval '1 second' WHERE store_id = '{}'", store.0)).await;
    let claimers = (0..4).map(|n| {
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut conn = connection().await;
            let mut mine = Vec::new();
            loop {
                let name = format!("test-claimer-{n}");
                let ours = job_claims::claim(&mut conn, &claim_of(&name, &[kind])).await.unwrap();
                assert!(ours.iter().all(|j| ids.contains(&JobId(j.id))), "claims only the kinds asked for");
                if ours.is_none() {
                    let left: i64 = {
                        use diesel::prelude::*;
                        use diesel_async::RunQueryDsl;
                        use whale_crm::db::schema::jobs as t;
                        t::table.filter(t::store_id.eq(store.0).and(t::state.eq("queued"))).count().get_result(&mut conn).await.unwrap()
                    };
                    if left == 0 {
                        return mine;
                    }
                    continue;
                }
                mine.extend(ours.into_iter().map(|j| JobId(j.id)));
            }
        })
    });
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap());
    }
    assert_eq!(claimed.len(), 40, "every job claimed once");
    assert_eq!(claimed.iter().copied().collect::<HashSet<_>>(), ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn outcomes_are_fenced_and_failures_retry_until_they_give_up() {
    let (store, _) = new_store("retries", false).await;
    let mut conn = connection().await;
    let kind = unique("test.retry", store);
    let id = jobs::enqueue(&mut conn, &later(store, kind)).await.unwrap();
    make_due(id).await;
    // claim it among whatever else is due
    let mut attempt = 0;
    for round in 1..=3 {
        let claimed = loop {
            let batch = job_claims::claim(&mut conn, &claim_of("test-worker", &[kind])).await.unwrap();
            if let Some(job) = batch.into_iter().find(|j| j.id == id.0) {
                break job;
            }
        };
        attempt += 1;
        assert_eq!(claimed.attempts, attempt);
        assert!(!jobs::succeed(&mut conn, id, "someone-else").await.unwrap(), "only the holder records the outcome");
        let retry_at = (round < 3).then(|| chrono::Utc::now() + chrono::Duration::minutes(5));
        assert!(jobs::fail(&mut conn, id, "test-worker", "boom", retry_at).await.unwrap());
        let now = status(id).await;
        if round < 3 {
            assert_eq!((now.state.as_str(), now.last_error.as_deref()), ("queued", Some("boom")));
            assert!(now.run_at > chrono::Utc::now() + chrono::Duration::minutes(4), "waits out its backoff");
            assert!(job_claims::claim(&mut conn, &claim_of("test-worker", &[kind])).await.unwrap().is_none_or(|j| j.id != id.0), "not due yet");
            make_due(id).await;
        } else {
            assert_eq!(now.state, "failed");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_workers_job_is_taken_over_and_finished() {
    let app = TestApp::spawn().await;
    let mut conn = connection().await;
    let id = whale_crm::jobs::metrics::enqueue_refit(&mut conn, app.store).await.unwrap();
    // A worker claims it and dies at once: its lease (0.2 s) runs out unrenewed.
    execute_sql(&format!(
        "UPDATE jobs SET state = 'running', attempts = 1, locked_by = 'dead-worker', locked_until = now() + interval '200 milliseconds' WHERE id = '{}'",
        id.0
    ))
    .await;
    let done = wait_for_state(id, "succeeded", Duration::from_secs(20)).await;
    assert_eq!(done.attempts, 2, "taken over once");
    assert!(!jobs::succeed(&mut conn, id, "dead-worker").await.unwrap(), "the dead worker cannot record an outcome");
    assert!(!jobs::fail(&mut conn, id, "dead-worker", "late", None).await.unwrap());
    assert_eq!(status(id).await.state, "succeeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn workers_leave_kinds_they_cannot_run_to_workers_that_can() {
    let app = TestApp::spawn().await;
    let mut conn = connection().await;
    // in a lane the workers serve, among kinds they can run
    let newer = NewJob { lane: jobs::lanes::MAINTENANCE, ..job(app.store, "test.from_a_newer_version", None) };
    let unknown = jobs::enqueue(&mut conn, &newer).await.unwrap();
    let known = whale_crm::jobs::metrics::enqueue_refit(&mut conn, app.store).await.unwrap();
    wait_for_state(known, "succeeded", Duration::from_secs(20)).await;
    let left = status(unknown).await;
    assert_eq!((left.state.as_str(), left.attempts), ("queued", 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_wakes_idle_workers_long_before_they_would_poll() {
    let mut config = test_config();
    config.jobs.poll_ms = 120_000;
    let app = TestApp::spawn_with(config).await;
    // let the workers claim nothing and go idle
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = tokio::time::Instant::now();
    let mut conn = connection().await;
    let id = whale_crm::jobs::metrics::enqueue_refit(&mut conn, app.store).await.unwrap();
    wait_for_state(id, "succeeded", Duration::from_secs(30)).await;
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(flavor = "multi_thread")]
async fn refit_metrics_model_runs_as_a_job_and_waits_for_it() {
    let app = TestApp::spawn().await;
    let before = app.gql("{ metricsModel { refitPending fittedAt } }", json!({})).await;
    assert_eq!(before["data"]["metricsModel"], json!({ "refitPending": false, "fittedAt": null }));
    let refit = app.gql("mutation { refitMetricsModel { refitPending fittedAt method } }", json!({})).await;
    assert_no_errors(&refit);
    assert_eq!(refit["data"]["refitMetricsModel"]["refitPending"], false);
    assert!(refit["data"]["refitMetricsModel"]["fittedAt"].is_string(), "{refit}");
    let done: i64 = {
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        use whale_crm::db::schema::jobs as t;
        t::table
            .filter(t::store_id.eq(app.store.0).and(t::kind.eq("metrics.refit")).and(t::state.eq("succeeded")))
            .count()
            .get_result(&mut connection().await)
            .await
            .unwrap()
    };
    assert_eq!(done, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_separate_worker_process_runs_jobs_the_server_queues() {
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let mut worker = whale_command(&["worker", "--count", "1"]).env("WHALE_JOBS_POLL_MS", "60000").spawn().expect("worker starts");
    let refit = app.gql("mutation { refitMetricsModel { refitPending fittedAt } }", json!({})).await;
    assert_no_errors(&refit);
    assert_eq!(refit["data"]["refitMetricsModel"]["refitPending"], false, "{refit}");
    assert!(refit["data"]["refitMetricsModel"]["fittedAt"].is_string());
    // SIGTERM: the worker stops claiming and exits cleanly
    let pid = worker.id().expect("running");
    std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    let exit = tokio::time::timeout(Duration::from_secs(30), worker.wait()).await.expect("exits").expect("status");
    assert!(exit.success(), "{exit:?}");
}
