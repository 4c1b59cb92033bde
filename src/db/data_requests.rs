//! Data requests: created together with their job (or the open request of the same kind
//! returned instead), listed, and carried out — an erasure deletes the customer, and with it
//! every row that holds their data, in one transaction.

use super::jobs::{self, NewJob};
use super::json_text::time;
use super::webhooks::{self, Event};
use super::{exports, idempotency, metrics};
use super::schema::{customers, data_requests, jobs as jobs_table};
use crate::domain::data_request::{DataRequestKind, ExportFormat};
use crate::domain::ids::{CustomerId, DataRequestId, StoreId};
use crate::domain::webhook::EventType;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A request as stored.
#[derive(Queryable, Selectable, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = data_requests, check_for_backend(Pg))]
pub struct DataRequestRow {
    pub store_id: uuid::Uuid,
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub kind: String,
    pub format: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub notify_customer: bool,
    pub email_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
}

impl DataRequestRow {
    /// The request as JSON, named as in the GraphQL `DataRequest` type (webhook events).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": DataRequestId(self.id).to_string(), "customerId": CustomerId(self.customer_id).to_string(),
            "type": self.kind, "format": self.format, "status": self.status, "reason": self.reason,
            "notifyCustomer": self.notify_customer, "emailHash": self.email_hash, "createdAt": time(self.created_at),
            "startedAt": self.started_at.map(time), "completedAt": self.completed_at.map(time),
        })
    }

    /// Whether it has finished, one way or the other.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "COMPLETED" | "FAILED")
    }
}

/// The channel every change of a request's status is announced on (to subscriptions of every
/// server instance); the payload is the request as changed, as JSON (well under NOTIFY's 8,000
/// bytes: the longest field, the reason, has at most 500 characters).
pub const CHANNEL: &str = "whale_data_requests";

/// Announces the row as it now is on [`CHANNEL`], when the caller's transaction commits (at
/// once outside one).
async fn announce(conn: &mut AsyncPgConnection, row: &DataRequestRow) -> QueryResult<()> {
    let payload = serde_json::to_string(row).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("pg_notify(").bind::<diesel::sql_types::Text, _>(CHANNEL).sql(", ").bind::<diesel::sql_types::Text, _>(payload).sql(")::text"))
        .execute(conn)
        .await?;
    Ok(())
}

/// A request with its job's next run.
#[derive(Debug, Clone)]
pub struct DataRequest {
    pub row: DataRequestRow,
    pub job_run_at: Option<DateTime<Utc>>,
}

/// A request to make.
#[derive(Debug, Clone)]
pub struct NewDataRequest {
    pub customer: CustomerId,
    pub kind: DataRequestKind,
    pub format: Option<ExportFormat>,
    pub reason: Option<String>,
    pub notify_customer: bool,
    pub email_hash: Option<String>,
}

/// What a job of `kind` for one request does.
pub fn job_for(store: StoreId, request: DataRequestId, job_kind: &'static str, max_attempts: i32) -> NewJob {
    NewJob { store, kind: job_kind, lane: super::jobs::lanes::DATA_REQUESTS, payload: serde_json::json!({ "request": request.to_string() }), dedupe_key: None, max_attempts, run_at: None }
}

const OPEN: [&str; 2] = ["PENDING", "PROCESSING"];

/// Creates the request and queues `job` for it in one transaction; if the customer already has an
/// open request of this kind, returns that one instead (`false`: not created).
pub async fn create(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    new: &NewDataRequest,
    job: impl FnOnce(DataRequestId) -> NewJob + Send,
) -> QueryResult<(DataRequest, bool)> {
    conn.transaction(async move |conn| {
        let id = DataRequestId::generate();
        let inserted = diesel::insert_into(data_requests::table)
            .values((
                data_requests::store_id.eq(store.0),
                data_requests::id.eq(id.0),
                data_requests::customer_id.eq(new.customer.0),
                data_requests::kind.eq(new.kind.as_str()),
                data_requests::format.eq(new.format.map(ExportFormat::as_str)),
                data_requests::reason.eq(new.reason.as_deref()),
                data_requests::notify_customer.eq(new.notify_customer),
                data_requests::email_hash.eq(new.email_hash.as_deref()),
            ))
            // the only possible conflict: the one-open-request-per-kind key
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            let open = data_requests::table
                .filter(data_requests::store_id.eq(store.0).and(data_requests::customer_id.eq(new.customer.0)))
                .filter(data_requests::kind.eq(new.kind.as_str()).and(data_requests::status.eq_any(OPEN)))
                .select(data_requests::id)
                .first::<uuid::Uuid>(conn)
                .await?;
            let request = find(conn, store, DataRequestId(open)).await?.ok_or(diesel::result::Error::NotFound)?;
            return Ok((request, false));
        }
        let job_id = jobs::enqueue(conn, &job(id)).await?;
        diesel::update(data_requests::table.filter(data_requests::store_id.eq(store.0).and(data_requests::id.eq(id.0))))
            .set(data_requests::job_id.eq(job_id.0))
            .execute(conn)
            .await?;
        let request = find(conn, store, id).await?.ok_or(diesel::result::Error::NotFound)?;
        announce(conn, &request.row).await?;
        Ok((request, true))
    })
    .await
}

/// Requests with their jobs.
#[diesel::dsl::auto_type]
fn with_job() -> _ {
    data_requests::table.left_join(jobs_table::table.on(jobs_table::id.nullable().eq(data_requests::job_id)))
}

/// One request of the store.
pub async fn find(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> QueryResult<Option<DataRequest>> {
    let found: Option<(DataRequestRow, Option<DateTime<Utc>>)> = with_job()
        .filter(data_requests::store_id.eq(store.0).and(data_requests::id.eq(id.0)))
        .select((DataRequestRow::as_select(), jobs_table::run_at.nullable()))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(row, job_run_at)| DataRequest { row, job_run_at }))
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub customer: Option<CustomerId>,
    pub kind: Option<DataRequestKind>,
    pub status: Option<&'static str>,
}

/// The store's requests, newest first, after `position` (created_at, id), at most `limit`.
pub async fn list(conn: &mut AsyncPgConnection, store: StoreId, filter: &Filter, position: Option<(DateTime<Utc>, uuid::Uuid)>, limit: i64) -> QueryResult<Vec<DataRequest>> {
    let mut query = with_job().filter(data_requests::store_id.eq(store.0)).into_boxed();
    if let Some(customer) = filter.customer {
        query = query.filter(data_requests::customer_id.eq(customer.0));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(data_requests::kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(data_requests::status.eq(status));
    }
    if let Some((t, id)) = position {
        query = query.filter(data_requests::created_at.lt(t).or(data_requests::created_at.eq(t).and(data_requests::id.lt(id))));
    }
    let rows: Vec<(DataRequestRow, Option<DateTime<Utc>>)> = query
        .order((data_requests::created_at.desc(), data_requests::id.desc()))
        .limit(limit)
        .select((DataRequestRow::as_select(), jobs_table::run_at.nullable()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|(row, job_run_at)| DataRequest { row, job_run_at }).collect())
}

/// Marks a PENDING request PROCESSING (its job started; announced); false if it was not pending.
pub async fn start(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> QueryResult<bool> {
    let started: Option<DataRequestRow> = diesel::update(data_requests::table.filter(data_requests::store_id.eq(store.0).and(data_requests::id.eq(id.0))))
        .filter(data_requests::status.eq("PENDING"))
        .set((data_requests::status.eq("PROCESSING"), data_requests::started_at.eq(Some(Utc::now()))))
        .returning(DataRequestRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if let Some(row) = &started {
        announce(conn, row).await?;
    }
    Ok(started.is_some())
}

/// Carries out an erasure in one transaction: the customer row goes, and with it (by cascade)
/// their addresses, notes, activity and segment memberships; every request about them loses its
/// reason; past export archives and logged webhook payloads about them are deleted; the request
/// is COMPLETED, and `customer.deleted` and `data_request.completed` are sent. Running it again
/// changes nothing.
pub async fn erase(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> QueryResult<()> {
    conn.transaction(async move |conn| {
        let request: Option<DataRequestRow> = data_requests::table
            .filter(data_requests::store_id.eq(store.0).and(data_requests::id.eq(id.0)))
            .select(DataRequestRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some(request) = request.filter(|r| r.status != "COMPLETED") else { return Ok::<(), diesel::result::Error>(()) };
        let customer = CustomerId(request.customer_id);
        let email: Option<String> = customers::table
            .filter(customers::store_id.eq(store.0).and(customers::id.eq(customer.0)))
            .select(customers::email)
            .first(conn)
            .await
            .optional()?;
        let deleted = diesel::delete(customers::table.filter(customers::store_id.eq(store.0).and(customers::id.eq(customer.0))))
            .execute(conn)
            .await?;
        idempotency::delete_for_customer(conn, store, customer, email.as_deref()).await?;
        diesel::update(data_requests::table.filter(data_requests::store_id.eq(store.0).and(data_requests::customer_id.eq(request.customer_id))))
            .set(data_requests::reason.eq(None::<String>))
            .execute(conn)
            .await?;
        exports::delete_for_customer(conn, store, customer).await?;
        webhooks::delete_for_customer(conn, store, customer).await?;
        if deleted > 0 {
            let gone = Event { event_type: EventType::CustomerDeleted, customer: None, data: serde_json::json!({ "id": customer.to_string() }) };
            webhooks::emit(conn, store, &gone).await?;
        }
        complete(conn, store, id, Utc::now()).await
    })
    .await?;
    // the store's RFM breakpoints no longer count the customer
    metrics::refresh_breakpoints(conn, store).await
}

/// Marks an open request COMPLETED at `at`, announces it and sends `data_request.completed`.
pub async fn complete(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId, at: DateTime<Utc>) -> QueryResult<()> {
    finish(conn, store, id, "COMPLETED", at).await
}

/// Marks an open request FAILED (its job gave up, or there was nothing to do it on), announces
/// it and sends `data_request.failed`.
pub async fn fail(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId) -> QueryResult<()> {
    finish(conn, store, id, "FAILED", Utc::now()).await
}

async fn finish(conn: &mut AsyncPgConnection, store: StoreId, id: DataRequestId, status: &'static str, at: DateTime<Utc>) -> QueryResult<()> {
    conn.transaction(async move |conn| {
        let finished: Option<DataRequestRow> = diesel::update(data_requests::table.filter(data_requests::store_id.eq(store.0).and(data_requests::id.eq(id.0))))
            .filter(data_requests::status.eq_any(OPEN))
            .set((data_requests::status.eq(status), data_requests::completed_at.eq(Some(at))))
            .returning(DataRequestRow::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        let Some(row) = finished else { return Ok(()) };
        announce(conn, &row).await?;
        let event_type = if status == "COMPLETED" { EventType::DataRequestCompleted } else { EventType::DataRequestFailed };
        // about the customer: an erasure deletes it with their other payloads (it may hold the
        // reason); the erasure's own completion is sent after that
        let event = Event { event_type, customer: Some(CustomerId(row.customer_id)), data: row.to_json() };
        webhooks::emit(conn, store, &event).await?;
        Ok(())
    })
    .await
}
