//! Bulk loading for seeds and benchmarks: thousands of rows per statement through `unnest` of
//! array parameters (no per-row round trips, no values spliced into SQL).

use crate::domain::ids::StoreId;
use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A customer row with its totals already computed from its events.
pub struct BulkCustomer {
    pub id: uuid::Uuid,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub total_orders: i32,
    pub total_spent: i64,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub order_days: i32,
    pub first_day_spent: i64,
    pub created_at: DateTime<Utc>,
    pub line1: String,
    pub city: String,
    pub state: Option<String>,
    pub postal_code: String,
    pub country: String,
}

/// An event row.
pub struct BulkEvent {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub event_type: &'static str,
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    pub amount: Option<i64>,
    pub order_id: Option<String>,
    pub campaign_id: Option<String>,
    pub referrer: Option<String>,
    pub agent: Option<String>,
    pub properties: serde_json::Value,
}

/// A note row.
pub struct BulkNote {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
}

/// Inserts customers and one default address each, in two statements.
pub async fn insert_customers(conn: &mut AsyncPgConnection, store: StoreId, rows: &[BulkCustomer]) -> QueryResult<()> {
    // Tags travel as one JSON array per customer (SQL arrays cannot be ragged).
    let tags: Vec<serde_json::Value> = rows.iter().map(|r| serde_json::json!(r.tags)).collect();
    diesel::sql_query(
        "INSERT INTO customers (store_id, id, email, first_name, last_name, phone, tags, metadata, total_orders, total_spent, \
                                first_order_at, last_order_at, order_days, first_day_spent, created_at, updated_at) \
         SELECT $1, id, email, first_name, last_name, phone, ARRAY(SELECT jsonb_array_elements_text(tags)), metadata, \
                total_orders, total_spent, first_order_at, last_order_at, order_days, first_day_spent, created_at, created_at \
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[], $9::int4[], $10::int8[], \
                     $11::timestamptz[], $12::timestamptz[], $13::int4[], $14::int8[], $15::timestamptz[]) \
              AS t(id, email, first_name, last_name, phone, tags, metadata, total_orders, total_spent, first_order_at, last_order_at, \
                   order_days, first_day_spent, created_at)",
    )
    .bind::<SqlUuid, _>(store.0)
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.email.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.first_name.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.last_name.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.phone.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(tags)
    .bind::<Array<Jsonb>, _>(rows.iter().map(|r| r.metadata.clone()).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(rows.iter().map(|r| r.total_orders).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.total_spent).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(rows.iter().map(|r| r.first_order_at).collect::<Vec<_>>())
    .bind::<Array<Nullable<Timestamptz>>, _>(rows.iter().map(|r| r.last_order_at).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(rows.iter().map(|r| r.order_days).collect::<Vec<_>>())
    .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.first_day_spent).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    diesel::sql_query(
        "INSERT INTO customer_addresses (store_id, id, customer_id, position, is_default, first_name, last_name, line1, city, state, postal_code, country) \
         SELECT $1, gen_random_uuid(), customer_id, 0, true, first_name, last_name, line1, city, state, postal_code, country \
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[]) \
              AS t(customer_id, first_name, last_name, line1, city, state, postal_code, country)",
    )
    .bind::<SqlUuid, _>(store.0)
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.first_name.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.last_name.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.line1.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.city.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.state.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.postal_code.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.country.as_str()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts events in one statement.
pub async fn insert_events(conn: &mut AsyncPgConnection, store: StoreId, rows: &[BulkEvent]) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO activity_events (store_id, id, customer_id, event_type, occurred_at, title, amount, order_id, campaign_id, referrer, agent, properties, created_at) \
         SELECT $1, id, customer_id, event_type, occurred_at, title, amount, order_id, campaign_id, referrer, agent, properties, occurred_at \
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::text[], $7::int8[], $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[]) \
              AS t(id, customer_id, event_type, occurred_at, title, amount, order_id, campaign_id, referrer, agent, properties)",
    )
    .bind::<SqlUuid, _>(store.0)
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.customer_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.event_type).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.occurred_at).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.title.as_str()).collect::<Vec<_>>())
    .bind::<Array<Nullable<BigInt>>, _>(rows.iter().map(|r| r.amount).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.order_id.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.campaign_id.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.referrer.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(rows.iter().map(|r| r.agent.as_deref()).collect::<Vec<_>>())
    .bind::<Array<Jsonb>, _>(rows.iter().map(|r| r.properties.clone()).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Inserts notes in one statement.
pub async fn insert_notes(conn: &mut AsyncPgConnection, store: StoreId, rows: &[BulkNote]) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO customer_notes (store_id, id, customer_id, body, author, created_at, updated_at) \
         SELECT $1, id, customer_id, body, author, created_at, created_at \
         FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::timestamptz[]) AS t(id, customer_id, body, author, created_at)",
    )
    .bind::<SqlUuid, _>(store.0)
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind::<Array<SqlUuid>, _>(rows.iter().map(|r| r.customer_id).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.body.as_str()).collect::<Vec<_>>())
    .bind::<Array<Text>, _>(rows.iter().map(|r| r.author.as_str()).collect::<Vec<_>>())
    .bind::<Array<Timestamptz>, _>(rows.iter().map(|r| r.created_at).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
