//! Export archives: everything held on one customer gathered into one JSON document, stored
//! until it expires, and found again by a download link.

use super::schema::data_exports;
use super::{activity, addresses, customers, enrichment, metrics, notes, segments};
use crate::domain::ids::{AddressId, CustomerId, DataRequestId, EventId, NoteId, SegmentId, StoreId};
use crate::domain::metrics::compute;
use crate::domain::money::Money;
use crate::error::AppError;
use super::json_text::time;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};


/// The customer's archive, or `None` when the customer is not (or no longer) in the store.
pub async fn archive(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId, now: DateTime<Utc>) -> Result<Option<Value>, AppError> {
    let Some(row) = customers::find(conn, store, customer).await? else { return Ok(None) };
    let ids = [customer];
    let addresses: Vec<Value> = addresses::for_customers(conn, store, &ids)
        .await?
        .remove(&customer)
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            json!({
                "id": AddressId(a.id).to_string(), "isDefault": a.is_default, "firstName": a.first_name, "lastName": a.last_name,
                "company": a.company, "line1": a.line1, "line2": a.line2, "city": a.city, "state": a.state,
                "postalCode": a.postal_code, "country": a.country, "phone": a.phone, "createdAt": time(a.created_at),
            })
        })
        .collect();
    let notes: Vec<Value> = notes::newest(conn, store, &ids, None, i64::MAX)
        .await?
        .remove(&customer)
        .unwrap_or_default()
        .into_iter()
        .map(|n| json!({ "id": NoteId(n.id).to_string(), "body": n.body, "author": n.author, "createdAt": time(n.created_at), "updatedAt": time(n.updated_at) }))
        .collect();
    let everything = activity::TimelineQuery { limit: i64::MAX, ..Default::default() };
    let activity: Vec<Value> = activity::timelines(conn, store, &ids, &everything)
        .await?
        .remove(&customer)
        .unwrap_or_default()
        .into_iter()
        .map(|e| {
            json!({
                "id": EventId(e.id).to_string(), "type": e.event_type, "title": e.title, "amount": e.amount.map(|a| Money(a).as_major()),
                "occurredAt": time(e.occurred_at), "externalId": e.external_id, "orderId": e.order_id, "campaignId": e.campaign_id,
                "referrer": e.referrer, "agent": e.agent, "properties": e.properties.value(), "recordedAt": time(e.created_at),
            })
        })
        .collect();
    let state = metrics::state(conn, store).await?;
    let models = state.model.as_ref().and_then(metrics::ModelRow::models);
    let computed = compute(&row.order_stats(), state.breakpoints.as_ref(), models.as_ref(), now);
    let metrics = json!({
        "rfm": computed.rfm.map(|r| json!({ "recency": r.recency, "frequency": r.frequency, "monetary": r.monetary, "segment": r.segment.name() })),
        "averageOrderValue": computed.average_order_value,
        "purchaseFrequencyDays": computed.purchase_frequency_days,
        "churnRisk": computed.prediction.map(|p| p.churn_risk()),
        "predictedLifetimeValue": computed.prediction.map(|p| p.clv),
    });
    let all = segments::all(conn, store).await?;
    let rules = state.rules_context();
    let member_of = segments::memberships(conn, store, &all, &ids, now, &rules).await?.remove(&customer).unwrap_or_default();
    let segments: Vec<Value> = all
        .iter()
        .filter(|s| member_of.contains(&s.id))
        .map(|s| json!({ "id": SegmentId(s.id).to_string(), "name": s.name, "type": s.kind }))
        .collect();
    Ok(Some(json!({
        "exportedAt": time(now),
        "customer": row.to_json(),
        "addresses": addresses,
        "notes": notes,
        "activity": activity,
        "metrics": metrics,
        "segments": segments,
        "enrichment": enrichment::for_customers(conn, store, &ids).await?.remove(&customer).map(|e| e.to_json()),
    })))
}

/// Stores (or replaces) a request's archive.
pub async fn save(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    request: DataRequestId,
    customer: CustomerId,
    (content_type, filename, content): (&str, &str, Vec<u8>),
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(data_exports::table)
        .values((
            data_exports::store_id.eq(store.0),
            data_exports::request_id.eq(request.0),
            data_exports::customer_id.eq(customer.0),
            data_exports::content_type.eq(content_type),
            data_exports::filename.eq(filename),
            data_exports::content.eq(&content),
            data_exports::expires_at.eq(expires_at),
        ))
        .on_conflict((data_exports::store_id, data_exports::request_id))
        .do_update()
        .set((data_exports::content.eq(&content), data_exports::expires_at.eq(expires_at)))
        .execute(conn)
        .await?;
    Ok(())
}

/// A stored archive: content type, file name, bytes — if it exists and has not expired.
pub async fn find(conn: &mut AsyncPgConnection, request: DataRequestId, now: DateTime<Utc>) -> QueryResult<Option<(String, String, Vec<u8>)>> {
    data_exports::table
        .filter(data_exports::request_id.eq(request.0).and(data_exports::expires_at.gt(now)))
        .select((data_exports::content_type, data_exports::filename, data_exports::content))
        .first(conn)
        .await
        .optional()
}

/// Deletes a request's archive once it has expired.
pub async fn delete_expired(conn: &mut AsyncPgConnection, store: StoreId, request: DataRequestId, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(data_exports::table.filter(data_exports::store_id.eq(store.0).and(data_exports::request_id.eq(request.0))))
        .filter(data_exports::expires_at.le(now))
        .execute(conn)
        .await
}

/// Deletes every archive about a customer (their erasure).
pub async fn delete_for_customer(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId) -> QueryResult<usize> {
    diesel::delete(data_exports::table.filter(data_exports::store_id.eq(store.0).and(data_exports::customer_id.eq(customer.0))))
        .execute(conn)
        .await
}
