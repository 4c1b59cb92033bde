//! Customer addresses: written with their customer, read for a whole page of customers at once.

use super::schema::customer_addresses;
use crate::domain::address::Address;
use crate::domain::ids::{AddressId, CustomerId, StoreId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// An address as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = customer_addresses, check_for_backend(diesel::pg::Pg))]
pub struct AddressRow {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub position: i16,
    pub is_default: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Stores `list` as the customer's addresses, in order.
pub async fn insert_all(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId, list: &[Address]) -> QueryResult<()> {
    if list.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = list
        .iter()
        .enumerate()
        .map(|(i, a)| {
            (
                customer_addresses::store_id.eq(store.0),
                customer_addresses::id.eq(AddressId::generate().0),
                customer_addresses::customer_id.eq(customer.0),
                customer_addresses::position.eq(i as i16),
                customer_addresses::is_default.eq(a.is_default),
                customer_addresses::first_name.eq(&a.first_name),
                customer_addresses::last_name.eq(&a.last_name),
                customer_addresses::company.eq(&a.company),
                customer_addresses::line1.eq(&a.line1),
                customer_addresses::line2.eq(&a.line2),
                customer_addresses::city.eq(&a.city),
                customer_addresses::state.eq(&a.state),
                customer_addresses::postal_code.eq(&a.postal_code),
                customer_addresses::country.eq(&a.country),
                customer_addresses::phone.eq(&a.phone),
            )
        })
        .collect();
    diesel::insert_into(customer_addresses::table).values(rows).execute(conn).await?;
    Ok(())
}

/// Replaces the customer's addresses with `list`.
pub async fn replace_all(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId, list: &[Address]) -> QueryResult<()> {
    diesel::delete(customer_addresses::table)
        .filter(customer_addresses::store_id.eq(store.0))
        .filter(customer_addresses::customer_id.eq(customer.0))
        .execute(conn)
        .await?;
    insert_all(conn, store, customer, list).await
}

/// The addresses of every customer in `customers`, in one statement, each list in order.
pub async fn for_customers(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    customers: &[CustomerId],
) -> QueryResult<HashMap<CustomerId, Vec<AddressRow>>> {
    let ids: Vec<uuid::Uuid> = customers.iter().map(|c| c.0).collect();
    let rows: Vec<AddressRow> = customer_addresses::table
        .filter(customer_addresses::store_id.eq(store.0))
        .filter(customer_addresses::customer_id.eq_any(ids))
        .order((customer_addresses::customer_id, customer_addresses::position))
        .select(AddressRow::as_select())
        .load(conn)
        .await?;
    let mut by_customer: HashMap<CustomerId, Vec<AddressRow>> = HashMap::new();
    for row in rows {
        by_customer.entry(CustomerId(row.customer_id)).or_default().push(row);
    }
    Ok(by_customer)
}
