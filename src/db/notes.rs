//! Notes on customers: add, edit, delete, and the newest notes of many customers at once.

use super::prepared::Prepared;
use super::schema::customer_notes;
use crate::domain::ids::{CustomerId, NoteId, StoreId};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Array, BigInt, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// A note as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = customer_notes, check_for_backend(Pg))]
pub struct NoteRow {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Adds a note; a customer that is not in the store is `NOT_FOUND` at `customerId`.
pub async fn add(conn: &mut AsyncPgConnection, store: StoreId, customer: CustomerId, body: &str, author: &str) -> Result<NoteRow, AppError> {
    diesel::insert_into(customer_notes::table)
        .values((
            customer_notes::store_id.eq(store.0),
            customer_notes::id.eq(NoteId::generate().0),
            customer_notes::customer_id.eq(customer.0),
            customer_notes::body.eq(body),
            customer_notes::author.eq(author),
        ))
        .returning(NoteRow::as_returning())
        .get_result(conn)
        .await
        .map_err(|err| match &err {
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info)
                if info.constraint_name() == Some("customer_notes_customer_fkey") =>
            {
                AppError::not_found("customer", customer, "customerId")
            }
            _ => err.into(),
        })
}

/// Replaces a note's body; `None` when there is no such note in the store.
pub async fn update(conn: &mut AsyncPgConnection, store: StoreId, id: NoteId, body: &str) -> QueryResult<Option<NoteRow>> {
    diesel::update(customer_notes::table.filter(customer_notes::store_id.eq(store.0).and(customer_notes::id.eq(id.0))))
        .set((customer_notes::body.eq(body), customer_notes::updated_at.eq(diesel::dsl::now)))
        .returning(NoteRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Deletes a note; returns whether it existed.
pub async fn delete(conn: &mut AsyncPgConnection, store: StoreId, id: NoteId) -> QueryResult<bool> {
    let n = diesel::delete(customer_notes::table.filter(customer_notes::store_id.eq(store.0).and(customer_notes::id.eq(id.0))))
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The newest notes of each customer, after `position` (created_at, id), `limit` per customer,
/// in one statement.
pub async fn newest(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    customers: &[CustomerId],
    position: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<HashMap<CustomerId, Vec<NoteRow>>> {
    let ids: Vec<uuid::Uuid> = customers.iter().map(|c| c.0).collect();
    let mut statement = Prepared::<SqlTypeOf<AsSelect<NoteRow, Pg>>>::default()
        .sql("SELECT n.* FROM unnest(")
        .bind::<Array<SqlUuid>, _>(ids)
        .sql(
            "::uuid[]) AS c(id) CROSS JOIN LATERAL ( \
               SELECT n.id, n.customer_id, n.body, n.author, n.created_at, n.updated_at FROM customer_notes n \
               WHERE n.customer_id = c.id AND n.store_id = ",
        )
        .bind::<SqlUuid, _>(store.0);
    if let Some((t, id)) = position {
        statement = statement.sql(" AND (n.created_at, n.id) < (").bind::<Timestamptz, _>(t).sql(", ").bind::<SqlUuid, _>(id).sql(")");
    }
    let statement = statement.sql(" ORDER BY n.created_at DESC, n.id DESC LIMIT ").bind::<BigInt, _>(limit).sql(") n");
    let rows: Vec<NoteRow> = statement.load(conn).await?;
    let mut out: HashMap<CustomerId, Vec<NoteRow>> = HashMap::new();
    for row in rows {
        out.entry(CustomerId(row.customer_id)).or_default().push(row);
    }
    Ok(out)
}
