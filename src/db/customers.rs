//! Customers: the row type and the writes that keep a profile and its addresses consistent.

use super::{addresses, enrichment};
use super::webhooks::{self, Event};
use super::json_text::time;
use super::schema::{customer_addresses, customers};
use crate::domain::customer::{CustomerUpdate, NewCustomer, Profile};
use crate::domain::email::Email;
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::metadata::Metadata;
use crate::domain::metrics::OrderStats;
use crate::domain::money::Money;
use crate::domain::tags::Tags;
use crate::domain::webhook::EventType;
use crate::error::{AppError, on_unique_violation};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::on_constraint;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// A customer as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = customers, check_for_backend(diesel::pg::Pg))]
pub struct CustomerRow {
    pub store_id: uuid::Uuid,
    pub id: uuid::Uuid,
    pub email: String,
    pub email_lower: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub metadata: serde_json::Value,
    pub total_orders: i32,
    pub total_spent: i64,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Distinct UTC days with an order.
    pub order_days: i32,
    /// Spend on the first purchase day (minor units).
    pub first_day_spent: i64,
}

impl CustomerRow {
    /// The public id.
    pub fn customer_id(&self) -> CustomerId {
        CustomerId(self.id)
    }

    /// The profile as JSON, named as in the GraphQL `Customer` type (export archives and
    /// `customer.*` webhook events).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.customer_id().to_string(), "email": self.email, "firstName": self.first_name, "lastName": self.last_name,
            "phone": self.phone, "tags": self.tags, "metadata": self.metadata, "totalOrders": self.total_orders,
            "totalSpent": Money(self.total_spent).as_major(), "firstOrderAt": self.first_order_at.map(time),
            "lastOrderAt": self.last_order_at.map(time), "createdAt": time(self.created_at), "updatedAt": time(self.updated_at),
        })
    }

    /// The order aggregates the metrics are computed from.
    pub fn order_stats(&self) -> OrderStats {
        OrderStats {
            total_orders: self.total_orders,
            total_spent: self.total_spent,
            first_order_at: self.first_order_at,
            last_order_at: self.last_order_at,
            order_days: self.order_days,
            first_day_spent: self.first_day_spent,
        }
    }

    fn profile(&self) -> Result<Profile, AppError> {
        Ok(Profile {
            email: Email::parse("email", &self.email)?,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: self.phone.clone(),
            tags: Tags::from_stored(self.tags.clone()),
            metadata: Metadata::from_stored(&self.metadata),
        })
    }
}

const EMAIL_TAKEN: &str = "another customer in this store already has this email";

/// Creates a customer, or returns the existing one with the same email (ignoring case) untouched.
/// The boolean says whether it was created. Safe under concurrent requests for one email.
pub async fn create(conn: &mut AsyncPgConnection, store: StoreId, new: &NewCustomer) -> Result<(CustomerRow, bool), AppError> {
    conn.transaction(async move |conn| {
        {
            let p = &new.profile;
            let inserted = diesel::insert_into(customers::table)
                .values((
                    customers::store_id.eq(store.0),
                    customers::id.eq(CustomerId::generate().0),
                    customers::email.eq(p.email.as_str()),
                    customers::first_name.eq(&p.first_name),
                    customers::last_name.eq(&p.last_name),
                    customers::phone.eq(&p.phone),
                    customers::tags.eq(p.tags.clone().into_vec()),
                    customers::metadata.eq(p.metadata.to_json()),
                ))
                .on_conflict(on_constraint("customers_email_key"))
                .do_nothing()
                .returning(CustomerRow::as_returning())
                .get_result(conn)
                .await
                .optional()?;
            match inserted {
                Some(row) => {
                    addresses::insert_all(conn, store, row.customer_id(), &new.addresses).await?;
                    enrichment::refresh_profile(conn, &row, true).await?;
                    announce(conn, &row, EventType::CustomerCreated).await?;
                    Ok((row, true))
                }
                None => {
                    let existing = find_by_email(conn, store, p.email.as_str()).await?;
                    existing.map(|row| (row, false)).ok_or_else(|| AppError::Internal(anyhow::anyhow!("email conflict without a row")))
                }
            }
        }
    })
    .await
}

/// Applies a partial update atomically (the row is locked while it is read and rewritten).
pub async fn update(conn: &mut AsyncPgConnection, store: StoreId, id: CustomerId, change: &CustomerUpdate) -> Result<CustomerRow, AppError> {
    conn.transaction(async move |conn| {
        {
            let current: CustomerRow = customers::table
                .filter(customers::store_id.eq(store.0).and(customers::id.eq(id.0)))
                .select(CustomerRow::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| AppError::not_found("customer", id, "id"))?;
            let region = match change.region() {
                Some(region) => Some(region.to_owned()),
                None => default_country(conn, store, id).await?,
            };
            let next = change.apply(current.profile()?, region.as_deref()).map_err(|e| e.under("input"))?;
            let row = diesel::update(customers::table)
                .filter(customers::store_id.eq(store.0).and(customers::id.eq(id.0)))
                .set((
                    customers::email.eq(next.email.as_str()),
                    customers::first_name.eq(&next.first_name),
                    customers::last_name.eq(&next.last_name),
                    customers::phone.eq(&next.phone),
                    customers::tags.eq(next.tags.clone().into_vec()),
                    customers::metadata.eq(next.metadata.to_json()),
                    customers::updated_at.eq(diesel::dsl::now),
                ))
                .returning(CustomerRow::as_returning())
                .get_result(conn)
                .await
                .map_err(|e| on_unique_violation(e, "customers_email_key", "input.email", EMAIL_TAKEN))?;
            if let Some(list) = &change.addresses {
                addresses::replace_all(conn, store, id, list).await?;
            }
            enrichment::refresh_profile(conn, &row, false).await?;
            announce(conn, &row, EventType::CustomerUpdated).await?;
            Ok(row)
        }
    })
    .await
}

/// Deletes a customer (its addresses, notes, activity and memberships go with it) and sends
/// `customer.deleted`; returns whether it existed.
pub async fn delete(conn: &mut AsyncPgConnection, store: StoreId, id: CustomerId) -> QueryResult<bool> {
    conn.transaction(async move |conn| {
        let n = diesel::delete(customers::table.filter(customers::store_id.eq(store.0).and(customers::id.eq(id.0))))
            .execute(conn)
            .await?;
        if n > 0 {
            let event = Event { event_type: EventType::CustomerDeleted, customer: Some(id), data: serde_json::json!({ "id": id.to_string() }) };
            webhooks::emit(conn, store, &event).await?;
        }
        Ok(n > 0)
    })
    .await
}

/// Sends `customer.created` or `customer.updated` with the profile as written.
async fn announce(conn: &mut AsyncPgConnection, row: &CustomerRow, event_type: EventType) -> QueryResult<()> {
    let event = Event { event_type, customer: Some(row.customer_id()), data: row.to_json() };
    webhooks::emit(conn, StoreId(row.store_id), &event).await?;
    Ok(())
}

/// Whether the customer exists, holding a share lock on the row until the transaction ends (an
/// erasure, which deletes the row, waits for it — or has already happened).
pub async fn lock_existing(conn: &mut AsyncPgConnection, store: StoreId, id: CustomerId) -> QueryResult<bool> {
    let found: Option<uuid::Uuid> = customers::table
        .filter(customers::store_id.eq(store.0).and(customers::id.eq(id.0)))
        .select(customers::id)
        .for_share()
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// Finds one customer.
pub async fn find(conn: &mut AsyncPgConnection, store: StoreId, id: CustomerId) -> QueryResult<Option<CustomerRow>> {
    customers::table
        .filter(customers::store_id.eq(store.0).and(customers::id.eq(id.0)))
        .select(CustomerRow::as_select())
        .first(conn)
        .await
        .optional()
}

diesel::define_sql_function! {
    /// PostgreSQL's `lower(text)`, the same function the `email_lower` column is generated with.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Finds the customer with this email, compared without case exactly as the unique key does.
pub async fn find_by_email(conn: &mut AsyncPgConnection, store: StoreId, email: &str) -> QueryResult<Option<CustomerRow>> {
    customers::table
        .filter(customers::store_id.eq(store.0).and(customers::email_lower.eq(lower(email))))
        .select(CustomerRow::as_select())
        .first(conn)
        .await
        .optional()
}

async fn default_country(conn: &mut AsyncPgConnection, store: StoreId, id: CustomerId) -> QueryResult<Option<String>> {
    customer_addresses::table
        .filter(customer_addresses::store_id.eq(store.0))
        .filter(customer_addresses::customer_id.eq(id.0))
        .filter(customer_addresses::is_default)
        .select(customer_addresses::country)
        .first::<Option<String>>(conn)
        .await
        .optional()
        .map(Option::flatten)
}
