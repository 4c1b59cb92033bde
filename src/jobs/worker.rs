//! A worker: claims one due job at a time, keeps its lease while the job runs, and records the
//! outcome — done, queued again after a backoff, or failed for good.
//!
//! Lanes are served in order ([`super::LANES`]): a worker looks at data requests first, then
//! maintenance, then webhook deliveries. Every lane but the first may occupy at most all workers
//! of the process but one, so with two or more workers neither refits nor slow deliveries alone
//! can take every worker from an erasure or an export; when both lanes are busy at once, a data
//! request waits for the first of their running jobs to end (each bounded by its timeout), not
//! for their queues. (Rooms per lane rather than one room for both: one shared room would make
//! refits wait behind slow deliveries instead.) With one worker the lanes are served in turn,
//! each data request taken as soon as the job running finishes. (A reserved
//! worker rather than a priority alone, because a priority does not help once every worker sits
//! in a 10 s webhook call.)

use super::{JobContext, JobKind, LANES, run};
use crate::config::Config;
use crate::db::job_claims::{self, Claim};
use crate::db::jobs::{self, ClaimedJob};
use crate::domain::ids::JobId;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;

/// How the workers of a process run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub poll: Duration,
    pub lease: Duration,
    /// The wait before a failed webhook delivery's first retry.
    pub webhook_first_retry: Duration,
    /// Jobs of one store and lane running at once, over all instances.
    pub per_store: i32,
}

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Self {
            poll: Duration::from_millis(config.jobs.poll_ms),
            lease: Duration::from_secs(config.jobs.lease_secs),
            webhook_first_retry: Duration::from_secs(config.webhooks.first_retry_secs),
            per_store: i32::try_from(config.jobs.per_store).unwrap_or(i32::MAX),
        }
    }
}

/// Starts `count` workers, woken by `wakeups`; they stop claiming once `stop` turns true and
/// end after their current job.
pub fn spawn(context: &JobContext, count: usize, settings: &Settings, wakeups: &watch::Receiver<u64>, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    let lanes = Lane::all(count);
    (0..count)
        .map(|n| {
            let worker =
                Worker { id: format!("{}-{}-{n}", std::process::id(), &process[..8]), context: context.clone(), settings: settings.clone(), lanes: lanes.clone() };
            tokio::spawn(worker.work(wakeups.clone(), stop.clone()))
        })
        .collect()
}

/// A lane as this process's workers serve it.
#[derive(Clone)]
struct Lane {
    name: &'static str,
    kinds: Arc<[&'static str]>,
    /// Workers of this process that may be in the lane at once (none: all of them).
    room: Option<Arc<Semaphore>>,
}

impl Lane {
    /// Every lane, in the order served, for `workers` workers: each lane after the first may
    /// hold all workers but one.
    fn all(workers: usize) -> Vec<Lane> {
        LANES
            .iter()
            .enumerate()
            .map(|(n, &name)| Lane {
                name,
                kinds: JobKind::in_lane(name).into(),
                room: (n > 0).then(|| Arc::new(Semaphore::new(workers.saturating_sub(1).max(1)))),
            })
            .collect()
    }
}

struct Worker {
    /// Unique among all workers of all processes (it fences the jobs' outcomes).
    id: String,
    context: JobContext,
    settings: Settings,
    lanes: Vec<Lane>,
}

impl Worker {
    async fn work(self, mut wakeups: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) {
        tracing::debug!(worker = %self.id, "job worker started");
        while !*stop.borrow() {
            wakeups.borrow_and_update();
            match self.claim().await {
                Ok(Some((job, room))) => {
                    self.run(job).await;
                    drop(room);
                }
                Ok(None) => {
                    tokio::select! {
                        _ = wakeups.changed() => {}
                        _ = tokio::time::sleep(self.settings.poll) => {}
                        _ = stop.changed() => {}
                    }
                }
                Err(err) => {
                    tracing::warn!(worker = %self.id, error = format!("{err:#}"), "could not claim jobs");
                    tokio::time::sleep(self.settings.poll).await;
                }
            }
        }
    }

    /// The next job of the first lane that has one and room for this worker, with that room
    /// (held while the job runs).
    async fn claim(&self) -> anyhow::Result<Option<(ClaimedJob, Option<OwnedSemaphorePermit>)>> {
        let mut conn = self.context.pool.get().await?;
        for lane in &self.lanes {
            let room = match &lane.room {
                None => None,
                Some(room) => match room.clone().try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => continue,
                },
            };
            let claim = Claim { worker: &self.id, lane: lane.name, kinds: &lane.kinds, per_store: self.settings.per_store, lease_secs: self.settings.lease.as_secs_f64() };
            if let Some(job) = job_claims::claim(&mut conn, &claim).await? {
                return Ok(Some((job, room)));
            }
        }
        Ok(None)
    }

    async fn run(&self, job: ClaimedJob) {
        let id = JobId(job.id);
        let outcome = match JobKind::parse(&job.kind) {
            None => Err(anyhow::anyhow!("unknown job kind {:?}", job.kind)),
            // The job's workers kept dying before recording an outcome: do not try again.
            Some(_) if job.attempts > job.max_attempts => Err(anyhow::anyhow!("abandoned: no outcome after {} attempts", job.max_attempts)),
            Some(kind) => {
                let context = self.context.clone();
                let claimed = job.clone();
                // Its own task, so a panic is an outcome like an error.
                let mut work = tokio::spawn(async move { run(&context, kind, &claimed).await });
                tokio::select! {
                    joined = &mut work => joined.unwrap_or_else(|panic| Err(anyhow::anyhow!("the job panicked: {panic}"))),
                    lost = self.keep_lease(id) => {
                        // the new holder runs it; stop this run at its next await
                        work.abort();
                        tracing::warn!(worker = %self.id, job = %id, kind = %job.kind, error = format!("{lost:#}"), "lost the job's lease; another worker will take it over");
                        return;
                    }
                }
            }
        };
        if let Err(err) = self.record(&job, outcome).await {
            // The lease runs out and the job is claimed again.
            tracing::warn!(worker = %self.id, job = %id, error = format!("{err:#}"), "could not record the job's outcome");
        }
    }

    /// Renews the lease every third of it; returns when it cannot.
    async fn keep_lease(&self, id: JobId) -> anyhow::Error {
        let lease = self.settings.lease.as_secs_f64();
        loop {
            tokio::time::sleep(self.settings.lease / 3).await;
            let renewed = async {
                let mut conn = self.context.pool.get().await?;
                anyhow::Ok(jobs::renew(&mut conn, id, &self.id, lease).await?)
            };
            match renewed.await {
                Ok(true) => {}
                Ok(false) => return anyhow::anyhow!("the lease now belongs to another worker"),
                Err(err) => return err,
            }
        }
    }

    async fn record(&self, job: &ClaimedJob, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let id = JobId(job.id);
        let mut conn = self.context.pool.get().await?;
        match outcome {
            Ok(()) => {
                jobs::succeed(&mut conn, id, &self.id).await?;
                tracing::info!(job = %id, kind = %job.kind, attempt = job.attempts, "job done");
            }
            Err(err) => {
                let error = format!("{err:#}");
                let kind = JobKind::parse(&job.kind);
                let retry_at = kind
                    .filter(|_| job.attempts < job.max_attempts)
                    .map(|kind| Utc::now() + chrono::Duration::from_std(kind.backoff(job.attempts, self.settings.webhook_first_retry)).unwrap_or_default());
                let recorded = jobs::fail(&mut conn, id, &self.id, &error, retry_at).await?;
                if let (true, None, Some(kind)) = (recorded, retry_at, kind) {
                    super::give_up(&self.context.pool, kind, job).await?;
                }
                match retry_at {
                    Some(at) => tracing::warn!(job = %id, kind = %job.kind, attempt = job.attempts, retry_at = %at, error, "job failed; will retry"),
                    None => tracing::error!(job = %id, kind = %job.kind, attempts = job.attempts, error, "job failed for good"),
                }
            }
        }
        Ok(())
    }
}

