//! What a process hears from PostgreSQL: one connection LISTENs on the jobs channel (idle
//! workers wake when a job is enqueued anywhere), on the data requests channel (a status
//! change made by any instance reaches this instance's subscriptions) and on the keys channel
//! (a revoked key is forgotten by the key cache and its WebSockets are closed). Notifications are
//! sent in the transactions that cause them, so they arrive only once those commit.

use crate::db::api_keys::{self, KeyChange};
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
    /// Every key change; `None` after a reconnect (changes may have been missed: whoever
    /// relies on a key should check it again).
    pub keys: broadcast::Sender<Option<KeyChange>>,
}

/// Starts listening, for the life of the process, and returns once the first connection
/// listens (or has failed: it keeps trying); reconnects a second after the connection fails.
pub async fn start(database_url: String) -> Notifications {
    let (wake, job_wakeups) = watch::channel(0u64);
    let (data_requests, _) = broadcast::channel(BACKLOG);
    let (keys, _) = broadcast::channel(BACKLOG);
    let feeds = Feeds { wake, data_requests: data_requests.clone(), keys: keys.clone() };
    let mut listening = job_wakeups.clone();
    tokio::spawn(async move {
        loop {
            if let Err(err) = listen(&database_url, &feeds).await {
                tracing::warn!(error = format!("{err:#}"), "notifications interrupted; reconnecting");
            }
            // (the first failure also ends the wait below)
            feeds.wake.send_modify(|n| *n += 1);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(10), listening.changed()).await;
    Notifications { job_wakeups, data_requests, keys }
}

/// Where what is heard goes.
struct Feeds {
    wake: watch::Sender<u64>,
    data_requests: broadcast::Sender<Option<DataRequestRow>>,
    keys: broadcast::Sender<Option<KeyChange>>,
}

async fn listen(database_url: &str, feeds: &Feeds) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    for channel in [jobs::CHANNEL, data_requests::CHANNEL, api_keys::CHANNEL] {
        diesel::sql_query(format!("LISTEN {channel}")).execute(&mut conn).await?;
    }
    // Whatever was sent while this connection was down is found again by looking.
    feeds.wake.send_modify(|n| *n += 1);
    let _ = feeds.data_requests.send(None);
    let _ = feeds.keys.send(None);
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
                            let _ = feeds.data_requests.send(Some(change));
                        }
                        Err(err) => tracing::warn!(error = %err, "unreadable data request notification"),
                    }
                } else if notification.channel == api_keys::CHANNEL {
                    match KeyChange::parse(&notification.payload) {
                        Some(change) => {
                            let _ = feeds.keys.send(Some(change));
                        }
                        None => tracing::warn!("unreadable key notification"),
                    }
                } else {
                    feeds.wake.send_modify(|n| *n += 1);
                }
            }
            Ok(None) => return Ok(()),
            Err(_) => {
                diesel::sql_query("SELECT 1").execute(&mut conn).await?;
            }
        }
    }
}
