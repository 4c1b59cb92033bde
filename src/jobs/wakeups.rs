//! Waking idle workers: one connection per process LISTENs on the jobs channel and counts the
//! notifications it hears; workers wait for the count to change (or for their polling interval,
//! which also covers the moments this connection is down and jobs that become due later).

use crate::db::jobs::CHANNEL;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::watch;

/// Starts listening; the receiver's value changes whenever a job is enqueued anywhere.
pub fn spawn(database_url: String) -> watch::Receiver<u64> {
    let (tx, rx) = watch::channel(0u64);
    tokio::spawn(async move {
        loop {
            if let Err(err) = listen(&database_url, &tx).await {
                tracing::warn!(error = format!("{err:#}"), "job notifications interrupted; reconnecting");
            }
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    rx
}

async fn listen(database_url: &str, tx: &watch::Sender<u64>) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(database_url).await?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn).await?;
    // Jobs enqueued while this connection was down are found by polling; wake everyone once.
    tx.send_modify(|n| *n += 1);
    loop {
        // The stream never ends, even if the connection dies: check on it every half minute
        // (notifications arriving meanwhile wait in the connection's queue).
        let heard = {
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(Duration::from_secs(30), notifications.next()).await
        };
        match heard {
            Ok(Some(notification)) => {
                notification?;
                if tx.is_closed() {
                    return Ok(());
                }
                tx.send_modify(|n| *n += 1);
            }
            Ok(None) => return Ok(()),
            Err(_) => {
                diesel::sql_query("SELECT 1").execute(&mut conn).await?;
            }
        }
    }
}
