//! A worker process killed with SIGKILL in the middle of a job: the job is neither lost nor done
//! twice — its lease runs out, another worker takes it over and finishes it.

use crate::helpers::*;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use std::time::Duration;
use tokio::process::{Child, Command};
use whale_crm::db::schema::{jobs, metrics_models};
use whale_crm::domain::ids::JobId;

fn worker() -> Child {
    Command::new(env!("CARGO_BIN_EXE_whale-crm"))
        .args(["worker", "--count", "1"])
        .env("DATABASE_URL", database_url())
        .env("WHALE_JOB_LEASE_SECS", "2")
        .env("WHALE_JOBS_POLL_MS", "100")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .expect("worker starts")
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
    let refits: i64 = jobs::table.filter(jobs::store_id.eq(app.store.0)).count().get_result(&mut conn).await.expect("count");
    assert_eq!(refits, 1);
}
