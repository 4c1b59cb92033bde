//! Webhook endpoints and the delivery log. `emit` records an event for every endpoint of the
//! store that wants it and queues a delivery job for each, in the caller's transaction: the
//! event exists, and is sent, only if the write that caused it commits.

use super::jobs::{self, NewJob};
use super::json_text::time;
use super::schema::{jobs as jobs_table, stores, webhook_deliveries, webhook_endpoints};
use crate::domain::ids::{CustomerId, StoreId, WebhookDeliveryId, WebhookEndpointId, WebhookEventId};
use crate::domain::webhook::{EventType, MAX_ENDPOINTS_PER_STORE};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The job kind that sends one delivery (payload: `{"delivery": "whdel_..."}`).
pub const DELIVER_JOB: &str = "webhook.deliver";
/// Attempts at one delivery: with the default first retry after a minute, doubling up to 4 h,
/// the last is about a day after the first.
pub const DELIVER_ATTEMPTS: i32 = 14;

/// An endpoint as stored (no `Debug`: it holds the signing secret).
#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = webhook_endpoints, check_for_backend(Pg))]
pub struct EndpointRow {
    pub id: uuid::Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

/// An endpoint to create (validated).
#[derive(Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<EventType>,
    pub description: Option<String>,
    pub secret: String,
}

/// Creates an endpoint; `None` when the store already has the most it may (counted under a lock
/// on the store, so concurrent creations cannot pass the limit together).
pub async fn create_endpoint(conn: &mut AsyncPgConnection, store: StoreId, new: &NewEndpoint) -> QueryResult<Option<EndpointRow>> {
    conn.transaction(async move |conn| {
        stores::table.filter(stores::id.eq(store.0)).select(stores::id).for_no_key_update().first::<uuid::Uuid>(conn).await?;
        let existing: i64 = webhook_endpoints::table.filter(webhook_endpoints::store_id.eq(store.0)).count().get_result(conn).await?;
        if existing >= MAX_ENDPOINTS_PER_STORE {
            return Ok(None);
        }
        insert_endpoint(conn, store, new).await.map(Some)
    })
    .await
}

async fn insert_endpoint(conn: &mut AsyncPgConnection, store: StoreId, new: &NewEndpoint) -> QueryResult<EndpointRow> {
    let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::store_id.eq(store.0),
            webhook_endpoints::id.eq(WebhookEndpointId::generate().0),
            webhook_endpoints::url.eq(&new.url),
            webhook_endpoints::events.eq(events),
            webhook_endpoints::description.eq(new.description.as_deref()),
            webhook_endpoints::secret.eq(&new.secret),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

/// The store's endpoints, oldest first.
pub async fn endpoints(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<Vec<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::store_id.eq(store.0))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .select(EndpointRow::as_select())
        .load(conn)
        .await
}

/// One endpoint of the store.
pub async fn endpoint(conn: &mut AsyncPgConnection, store: StoreId, id: WebhookEndpointId) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::store_id.eq(store.0).and(webhook_endpoints::id.eq(id.0)))
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Deletes an endpoint and its delivery log (deliveries still queued are dropped); whether it
/// existed.
pub async fn delete_endpoint(conn: &mut AsyncPgConnection, store: StoreId, id: WebhookEndpointId) -> QueryResult<bool> {
    let n = diesel::delete(webhook_endpoints::table.filter(webhook_endpoints::store_id.eq(store.0).and(webhook_endpoints::id.eq(id.0))))
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// An event to send: what happened, whom it is about (an erasure deletes the payloads about a
/// customer), and its `data` object.
#[derive(Debug, Clone)]
pub struct Event {
    pub event_type: EventType,
    pub customer: Option<CustomerId>,
    pub data: serde_json::Value,
}

/// Records `event` for every endpoint of the store that receives its type and queues their
/// deliveries.
pub async fn emit(conn: &mut AsyncPgConnection, store: StoreId, event: &Event) -> QueryResult<()> {
    let type_name = event.event_type.as_str();
    let receivers: Vec<uuid::Uuid> = webhook_endpoints::table
        .filter(webhook_endpoints::store_id.eq(store.0))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>("").bind::<diesel::sql_types::Text, _>(type_name).sql(" = ANY(events)"))
        .select(webhook_endpoints::id)
        // an endpoint deleted meanwhile waits for this transaction (its deliveries go with it)
        .for_key_share()
        .load(conn)
        .await?;
    if receivers.is_empty() {
        return Ok(());
    }
    let event_id = WebhookEventId::generate();
    let payload = serde_json::json!({
        "id": event_id.to_string(),
        "event": type_name,
        "createdAt": time(Utc::now()),
        "data": event.data,
    })
    .to_string();
    for endpoint in &receivers {
        let delivery = WebhookDeliveryId::generate();
        let job = NewJob {
            store,
            kind: DELIVER_JOB,
            lane: jobs::lanes::WEBHOOKS,
            payload: serde_json::json!({ "delivery": delivery.to_string() }),
            dedupe_key: None,
            max_attempts: DELIVER_ATTEMPTS,
            run_at: None,
        };
        let job_id = jobs::enqueue(conn, &job).await?;
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::store_id.eq(store.0),
                webhook_deliveries::id.eq(delivery.0),
                webhook_deliveries::endpoint_id.eq(endpoint),
                webhook_deliveries::event_id.eq(event_id.0),
                webhook_deliveries::event_type.eq(type_name),
                webhook_deliveries::customer_id.eq(event.customer.map(|c| c.0)),
                webhook_deliveries::payload.eq(&payload),
                webhook_deliveries::job_id.eq(job_id.0),
            ))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// A delivery as logged.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = webhook_deliveries, check_for_backend(Pg))]
pub struct DeliveryRow {
    pub id: uuid::Uuid,
    pub endpoint_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub last_error: Option<String>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A delivery with when its job next runs (while it is pending).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub row: DeliveryRow,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Deliveries with their jobs.
#[diesel::dsl::auto_type]
fn with_job() -> _ {
    webhook_deliveries::table.left_join(jobs_table::table.on(jobs_table::id.nullable().eq(webhook_deliveries::job_id)))
}

/// Which deliveries to list.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryFilter<'a> {
    pub endpoint: WebhookEndpointId,
    pub status: Option<&'a str>,
    pub event_type: Option<EventType>,
}

/// An endpoint's deliveries, newest first, after `position` (created_at, id), at most `limit`.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    filter: DeliveryFilter<'_>,
    position: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = with_job()
        .filter(webhook_deliveries::store_id.eq(store.0).and(webhook_deliveries::endpoint_id.eq(filter.endpoint.0)))
        .into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(webhook_deliveries::status.eq(status));
    }
    if let Some(event_type) = filter.event_type {
        query = query.filter(webhook_deliveries::event_type.eq(event_type.as_str()));
    }
    if let Some((t, id)) = position {
        query = query.filter(webhook_deliveries::created_at.lt(t).or(webhook_deliveries::created_at.eq(t).and(webhook_deliveries::id.lt(id))));
    }
    let rows: Vec<(DeliveryRow, Option<DateTime<Utc>>, Option<String>)> = query
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(limit)
        .select((DeliveryRow::as_select(), jobs_table::run_at.nullable(), jobs_table::state.nullable()))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(row, run_at, state)| {
            let next_attempt_at = run_at.filter(|_| row.status == "PENDING" && state.as_deref() == Some("queued"));
            Delivery { row, next_attempt_at }
        })
        .collect())
}

/// What a delivery job needs: the delivery, and where and with what secret to send it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
}

/// A pending delivery with its endpoint; `None` when it was delivered already, or when it (or
/// its endpoint) is gone — deleted, or erased with its customer.
pub async fn outgoing(conn: &mut AsyncPgConnection, store: StoreId, id: WebhookDeliveryId) -> QueryResult<Option<Outgoing>> {
    let found: Option<(DeliveryRow, String, String)> = webhook_deliveries::table
        .inner_join(
            webhook_endpoints::table
                .on(webhook_endpoints::store_id.eq(webhook_deliveries::store_id).and(webhook_endpoints::id.eq(webhook_deliveries::endpoint_id))),
        )
        .filter(webhook_deliveries::store_id.eq(store.0).and(webhook_deliveries::id.eq(id.0)))
        .filter(webhook_deliveries::status.eq("PENDING"))
        .select((DeliveryRow::as_select(), webhook_endpoints::url, webhook_endpoints::secret))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(delivery, url, secret)| Outgoing { delivery, url, secret }))
}

/// What one attempt got back.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, if it answered.
    pub response_status: Option<i32>,
    /// The start of its response body.
    pub response_body: Option<String>,
    /// Why the attempt failed (none when it succeeded).
    pub error: Option<String>,
}

/// Logs an attempt: SUCCEEDED when it had no error, else still PENDING (its job retries).
pub async fn record_attempt(conn: &mut AsyncPgConnection, store: StoreId, id: WebhookDeliveryId, attempt: &Attempt) -> QueryResult<()> {
    let status = if attempt.error.is_none() { "SUCCEEDED" } else { "PENDING" };
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::store_id.eq(store.0).and(webhook_deliveries::id.eq(id.0))))
        .filter(webhook_deliveries::status.eq("PENDING"))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::response_status.eq(attempt.response_status),
            webhook_deliveries::response_body.eq(attempt.response_body.as_deref()),
            webhook_deliveries::last_error.eq(attempt.error.as_deref()),
            webhook_deliveries::last_attempt_at.eq(attempt.at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a delivery FAILED for good (its job gave up).
pub async fn give_up(conn: &mut AsyncPgConnection, store: StoreId, id: WebhookDeliveryId) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::store_id.eq(store.0).and(webhook_deliveries::id.eq(id.0))))
        .filter(webhook_deliveries::status.eq("PENDING"))
        .set(webhook_deliveries::status.eq("FAILED"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes every logged payload about the customer, sent or not (an erasure).
pub async fn delete_for_customer(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId) -> QueryResult<usize> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::store_id.eq(store.0).and(webhook_deliveries::customer_id.eq(customer.0))))
        .execute(conn)
        .await
}

/// How long finished deliveries stay in the log.
pub const LOG_RETENTION_DAYS: i32 = 30;

/// Deletes finished deliveries made more than `days` ago; returns how many.
pub async fn prune(conn: &mut AsyncPgConnection, days: i32) -> QueryResult<usize> {
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::status.ne("PENDING").and(webhook_deliveries::created_at.lt(cutoff))))
        .execute(conn)
        .await
}
