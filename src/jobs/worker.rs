//! A worker: claims one due job at a time, keeps its lease while the job runs, and records the
//! outcome — done, queued again after a backoff, or failed for good.

use super::{JobContext, JobKind, run};
use crate::config::Config;
use crate::db::jobs::{self, ClaimedJob};
use crate::domain::ids::JobId;
use chrono::Utc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the workers of a process run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub poll: Duration,
    pub lease: Duration,
    /// The wait before a failed webhook delivery's first retry.
    pub webhook_first_retry: Duration,
}

impl From<&Config> for Settings {
    fn from(config: &Config) -> Self {
        Self {
            poll: Duration::from_millis(config.jobs.poll_ms),
            lease: Duration::from_secs(config.jobs.lease_secs),
            webhook_first_retry: Duration::from_secs(config.webhooks.first_retry_secs),
        }
    }
}

/// Starts `count` workers, woken by `wakeups`; they stop claiming once `stop` turns true and
/// end after their current job.
pub fn spawn(context: &JobContext, count: usize, settings: &Settings, wakeups: &watch::Receiver<u64>, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let process = uuid::Uuid::new_v4().simple().to_string();
    (0..count)
        .map(|n| {
            let worker = Worker { id: format!("{}-{}-{n}", std::process::id(), &process[..8]), context: context.clone(), settings: settings.clone() };
            tokio::spawn(worker.work(wakeups.clone(), stop.clone()))
        })
        .collect()
}

struct Worker {
    /// Unique among all workers of all processes (it fences the jobs' outcomes).
    id: String,
    context: JobContext,
    settings: Settings,
}

impl Worker {
    async fn work(self, mut wakeups: watch::Receiver<u64>, mut stop: watch::Receiver<bool>) {
        tracing::debug!(worker = %self.id, "job worker started");
        while !*stop.borrow() {
            wakeups.borrow_and_update();
            match self.claim().await {
                Ok(Some(job)) => self.run(job).await,
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

    async fn claim(&self) -> anyhow::Result<Option<ClaimedJob>> {
        let mut conn = self.context.pool.get().await?;
        let kinds = JobKind::ALL.map(JobKind::as_str);
        Ok(jobs::claim(&mut conn, &self.id, &kinds, self.settings.lease.as_secs_f64(), 1).await?.pop())
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
