//! What a process hears from PostgreSQL: one connection LISTENs on the jobs channel (idle
//! workers wake when a job is enqueued anywhere) and on the data requests channel (a status
//! change made by any instance reaches this instance's subscriptions). Notifications are sent in
//! the transactions that cause them, so they arrive only once those commit.

use crate::db::data_requests::{self, DataRequestRow};
use crate::db::jobs;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// How many data request changes a slow subscriber may fall behind before it skips some.
const BACKLOG: usize = 1024;

/// The two feeds.
#[derive(Clone)]
pub struct Notifications {
    /// Changes whenever a job is enqueued anywhere (and once on every reconnect, since
    /// notifications sent while the connection was down are lost; workers also poll).
    pub job_wakeups: watch::Receiver<u64>,
    /// Every data request status change of every store, the request as it was changed; `None`
    /// after a reconnect (changes may have been missed: listeners should look at the current
    /// state again).
    pub data_requests: broadcast::Sender<Option<DataRequestRow>>,
}

/// Starts listening, for the life of the process, and returns once the first connection
/// listens (or has failed: it keeps trying); reconnects a second after the connection fails.
pub async fn start(database_url: String) -> Notifications {
    let (wake, job_wakeups) = watch::channel(0u64);
    let (data_requests, _) = broadcast::channel(BACKLOG);
    let changes = data_requests.clone();
    let mut listening = job_wakeups.clone();
    tokio::spawn(async move {
        loop {
            if let Err(err) = listen(&database_url, &wake, &changes).await {
                tracing::warn!(error = format!("{err:#}"), "notifications interrupted; reconnecting");
            }
            // (the first failure also ends the wait below)
            wake.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(10), listening.changed()).await;
    Notifications { job_wakeups, data_requests }
}

async fn listen(database_url: &str, wake: &watch::Sender<u64>, changes: &broadcast::Sender<Option<DataRequestRow>>) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    diesel::sql_query(format!("LISTEN {}", jobs::CHANNEL)).execute(&mut conn).await?;
    diesel::sql_query(format!("LISTEN {}", data_requests::CHANNEL)).execute(&mut conn).await?;
    // Whatever was sent while this connection was down is found again by looking.
    wake.send_modify(|n| *n += 1);
    let _ = changes.send(None);
    loop {
        // The stream never ends, even if the connection dies: check on it every half minute
        // (notifications arriving meanwhile wait in the connection's queue).
        let heard = {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(Duration::from_secs(30), notifications.next()).await
        };
        match heard {
            Ok(Some(notification)) => {
                let notification = notification?;
                if notification.channel == data_requests::CHANNEL {
                    match serde_json::from_str::<DataRequestRow>(&notification.payload) {
                        Ok(change) => {
                            let _ = changes.send(Some(change));
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable data request notification"),
                    }
                } else {
                    wake.send_modify(|n| *n += 1);
                }
            }
            Ok(None) => return Ok(()),
            Err(_) => {
                diesel::sql_query("SELECT 1").execute(&mut conn).await?;
            }
        }
    }
}
