//! Carrying out data requests: erasure (`db::data_requests::erase`) and export — the archive
//! built (JSON, or a zip of CSV files), stored with its expiry, the request completed and the archive's deletion queued, in one
//! transaction.

use super::JobKind;
use crate::db::{customers, data_requests};
use crate::db::exports;
use crate::db::jobs::{self, NewJob};
use crate::domain::data_request::{EXPORT_RETENTION_DAYS, ExportFormat};
use crate::domain::export_csv;
use crate::domain::ids::{CustomerId, DataRequestId, StoreId};
use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

/// Builds and stores the request's archive; a request about a customer who no longer exists
/// fails (there is nothing to export). Running it again after completion changes nothing.
pub async fn export(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> anyhow::Result<()> {
    let Some(request) = data_requests::find(conn, store, id).await? else { return Ok(()) };
    if request.row.status == "COMPLETED" {
        return Ok(());
    }
    let customer = CustomerId(request.row.customer_id);
    let now = Utc::now();
    let Some(archive) = exports::archive(conn, store, customer, now).await.map_err(|e| anyhow::anyhow!("{e:?}"))? else {
        data_requests::fail(conn, store, id).await?;
        return Ok(());
    };
    let (content_type, filename, content) = match request.row.format.as_deref().and_then(ExportFormat::from_stored) {
        Some(ExportFormat::Csv) => ("application/zip", format!("whale-export-{id}.zip"), export_csv::zip(&archive)?),
        Some(ExportFormat::Json) | None => ("application/json", format!("whale-export-{id}.json"), serde_json::to_vec_pretty(&archive)?),
    };
    let expires_at = now + Duration::days(EXPORT_RETENTION_DAYS);
    let expire = NewJob {
        store,
        kind: JobKind::DataExportExpire.as_str(),
        lane: JobKind::DataExportExpire.lane(),
        payload: serde_json::json!({ "request": id.to_string() }),
        dedupe_key: Some(id.to_string()),
        max_attempts: JobKind::DataExportExpire.max_attempts(),
        run_at: Some(expires_at),
    };
    // An erasure may have run while the archive was built: store it only while the customer
    // still exists (the share lock makes an erasure now wait, and then delete this archive too).
    conn.transaction(async move |conn| {
        if !customers::lock_existing(conn, store, customer).await? {
            return data_requests::fail(conn, store, id).await;
        }
        exports::save(conn, store, id, customer, (content_type, &filename, content), expires_at).await?;
        data_requests::complete(conn, store, id, now).await?;
        jobs::enqueue(conn, &expire).await?;
        diesel::QueryResult::Ok(())
    })
    .await?;
    Ok(())
}

/// Deletes the request's archive if it has expired (a job scheduled at its expiry).
pub async fn expire(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> anyhow::Result<()> {
    exports::delete_expired(conn, store, id, Utc::now()).await?;
    Ok(())
}
