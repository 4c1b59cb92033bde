//! Segments and static segment members.

use super::schema::{customers, segment_members, segments};
use super::segment_sql;
use crate::domain::ids::{CustomerId, SegmentId, StoreId};
use crate::domain::segment::{MetricsContext, RuleGroup};
use crate::error::AppError;
use chrono::{DateTime, Utc};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// A segment as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = segments, check_for_backend(diesel::pg::Pg))]
pub struct SegmentRow {
    pub id: uuid::Uuid,
    pub name: String,
    /// `DYNAMIC` or `STATIC`.
    pub kind: String,
    pub rules: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SegmentRow {
    /// The validated rules of a dynamic segment.
    pub fn rule_group(&self) -> Result<Option<RuleGroup>, AppError> {
        self.rules.as_ref().map(RuleGroup::from_json).transpose().map_err(|e| AppError::Internal(anyhow::anyhow!("stored rules: {}", e.message)))
    }
}

/// Which customers belong: a static segment's members, or a dynamic segment's rules (with the
/// store's metrics state for churn-risk and RFM rules).
#[derive(Debug, Clone)]
pub enum Membership {
    Static(uuid::Uuid),
    Dynamic(RuleGroup, MetricsContext),
}

impl Membership {
    /// The membership of `row`; `ctx` is the store's metrics state.
    pub fn of(row: &SegmentRow, ctx: &MetricsContext) -> Result<Self, AppError> {
        Ok(match row.rule_group()? {
            Some(group) => Self::Dynamic(group, ctx.clone()),
            None => Self::Static(row.id),
        })
    }

    /// The condition on `customers` (rules resolve relative times at `now`).
    pub fn condition(&self, now: DateTime<Utc>) -> Box<dyn BoxableExpression<customers::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>> {
        match self {
            Self::Dynamic(group, ctx) => Box::new(segment_sql::compile(group, now, ctx)),
            Self::Static(id) => Box::new(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "EXISTS (SELECT 1 FROM segment_members m WHERE m.store_id = customers.store_id AND m.customer_id = customers.id AND m.segment_id = ",
                )
                .bind::<diesel::sql_types::Uuid, _>(*id)
                .sql(")"),
            ),
        }
    }
}

/// Checks that every customer is in the store; otherwise `NOT_FOUND` naming the missing ids.
async fn check_customers(conn: &mut AsyncPgConnection, store: StoreId, ids: &[CustomerId], arg: &str) -> Result<(), AppError> {
    let wanted: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let found: Vec<uuid::Uuid> =
        customers::table.filter(customers::store_id.eq(store.0).and(customers::id.eq_any(&wanted))).select(customers::id).load(conn).await?;
    let missing: Vec<(usize, CustomerId)> = ids.iter().enumerate().filter(|(_, c)| !found.contains(&c.0)).map(|(i, c)| (i, *c)).collect();
    if let Some((first, _)) = <[_]>::first(&missing) {
        let names: Vec<String> = missing.iter().map(|(_, c)| c.to_string()).collect();
        return Err(AppError::NotFound {
            what: "customers",
            id: names.join("`, `"),
            path: vec![arg.to_owned(), first.to_string()],
        });
    }
    Ok(())
}

async fn insert_members(conn: &mut AsyncPgConnection, store: StoreId, segment: uuid::Uuid, ids: &[CustomerId]) -> QueryResult<()> {
    let rows: Vec<_> = ids
        .iter()
        .map(|c| (segment_members::store_id.eq(store.0), segment_members::segment_id.eq(segment), segment_members::customer_id.eq(c.0)))
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(segment_members::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(())
}

/// Creates a segment (a static one with its first members), all or nothing.
pub async fn create(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    name: &str,
    rules: Option<&RuleGroup>,
    members: &[CustomerId],
) -> Result<SegmentRow, AppError> {
    conn.transaction(async move |conn| {
        check_customers(conn, store, members, "input.customerIds").await?;
        let row: SegmentRow = diesel::insert_into(segments::table)
            .values((
                segments::store_id.eq(store.0),
                segments::id.eq(SegmentId::generate().0),
                segments::name.eq(name),
                segments::kind.eq(if rules.is_some() { "DYNAMIC" } else { "STATIC" }),
                segments::rules.eq(rules.map(RuleGroup::to_json)),
            ))
            .returning(SegmentRow::as_returning())
            .get_result(conn)
            .await?;
        insert_members(conn, store, row.id, members).await?;
        Ok(row)
    })
    .await
}

/// Finds a segment.
pub async fn find(conn: &mut AsyncPgConnection, store: StoreId, id: SegmentId) -> QueryResult<Option<SegmentRow>> {
    segments::table
        .filter(segments::store_id.eq(store.0).and(segments::id.eq(id.0)))
        .select(SegmentRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The store's segments, oldest first, after a (created_at, id) position.
pub async fn page(conn: &mut AsyncPgConnection, store: StoreId, after: Option<(DateTime<Utc>, uuid::Uuid)>, limit: i64) -> QueryResult<Vec<SegmentRow>> {
    let mut query = segments::table.filter(segments::store_id.eq(store.0)).into_boxed();
    if let Some((t, id)) = after {
        query = query.filter(segments::created_at.gt(t).or(segments::created_at.eq(t).and(segments::id.gt(id))));
    }
    query.order((segments::created_at, segments::id)).limit(limit).select(SegmentRow::as_select()).load(conn).await
}

/// Renames a segment and/or replaces a dynamic segment's rules.
pub async fn update(conn: &mut AsyncPgConnection, store: StoreId, id: SegmentId, name: Option<&str>, rules: Option<&RuleGroup>) -> Result<SegmentRow, AppError> {
    conn.transaction(async move |conn| {
        let current = find(conn, store, id).await?.ok_or_else(|| AppError::not_found("segment", id, "id"))?;
        if rules.is_some() && current.kind != "DYNAMIC" {
            return Err(AppError::bad_input("input.rules", "a static segment has members, not rules"));
        }
        let rules_json = rules.map(RuleGroup::to_json).or(current.rules);
        Ok(diesel::update(segments::table.filter(segments::store_id.eq(store.0).and(segments::id.eq(id.0))))
            .set((segments::name.eq(name.unwrap_or(&current.name)), segments::rules.eq(rules_json), segments::updated_at.eq(diesel::dsl::now)))
            .returning(SegmentRow::as_returning())
            .get_result(conn)
            .await?)
    })
    .await
}

/// Deletes a segment; returns whether it existed.
pub async fn delete(conn: &mut AsyncPgConnection, store: StoreId, id: SegmentId) -> QueryResult<bool> {
    let n = diesel::delete(segments::table.filter(segments::store_id.eq(store.0).and(segments::id.eq(id.0)))).execute(conn).await?;
    Ok(n > 0)
}

/// Adds (or removes) members of a static segment, all or nothing.
pub async fn change_members(conn: &mut AsyncPgConnection, store: StoreId, id: SegmentId, ids: &[CustomerId], add: bool) -> Result<SegmentRow, AppError> {
    conn.transaction(async move |conn| {
        let segment = find(conn, store, id).await?.ok_or_else(|| AppError::not_found("segment", id, "id"))?;
        if segment.kind != "STATIC" {
            return Err(AppError::bad_input("id", "only static segments have explicit members; change a dynamic segment's rules instead"));
        }
        check_customers(conn, store, ids, "customerIds").await?;
        if add {
            insert_members(conn, store, segment.id, ids).await?;
        } else {
            let wanted: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
            diesel::delete(segment_members::table)
                .filter(segment_members::store_id.eq(store.0).and(segment_members::segment_id.eq(segment.id)))
                .filter(segment_members::customer_id.eq_any(wanted))
                .execute(conn)
                .await?;
        }
        Ok(segment)
    })
    .await
}

/// Every segment of the store.
pub async fn all(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<Vec<SegmentRow>> {
    segments::table.filter(segments::store_id.eq(store.0)).order((segments::created_at, segments::id)).select(SegmentRow::as_select()).load(conn).await
}

/// For each customer row, the ids of the given segments it belongs to: one `CASE WHEN <membership>
/// THEN <segment id>` per segment, collected in an array.
struct SegmentIds(Vec<(uuid::Uuid, Condition)>);

type Condition = Box<dyn BoxableExpression<customers::table, diesel::pg::Pg, SqlType = diesel::sql_types::Bool>>;

impl Expression for SegmentIds {
    type SqlType = diesel::sql_types::Array<diesel::sql_types::Uuid>;
}

impl AppearsOnTable<customers::table> for SegmentIds {}
impl SelectableExpression<customers::table> for SegmentIds {}

impl ValidGrouping<()> for SegmentIds {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for SegmentIds {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<diesel::pg::Pg> for SegmentIds {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("array_remove(ARRAY[");
        for (i, (id, condition)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_sql("CASE WHEN (");
            condition.walk_ast(out.reborrow())?;
            out.push_sql(") THEN ");
            out.push_bind_param::<diesel::sql_types::Uuid, _>(id)?;
            out.push_sql(" END");
        }
        out.push_sql("]::uuid[], NULL)");
        Ok(())
    }
}

/// The segments (ids) each of `customers` belongs to, static and dynamic, in one statement.
pub async fn memberships(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    segments: &[SegmentRow],
    customers: &[CustomerId],
    now: DateTime<Utc>,
    ctx: &MetricsContext,
) -> Result<HashMap<CustomerId, Vec<uuid::Uuid>>, AppError> {
    if segments.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<uuid::Uuid> = customers.iter().map(|c| c.0).collect();
    let conditions = segments.iter().map(|s| Ok((s.id, Membership::of(s, ctx)?.condition(now)))).collect::<Result<Vec<_>, AppError>>()?;
    let rows: Vec<(uuid::Uuid, Vec<uuid::Uuid>)> = customers::table
        .filter(customers::store_id.eq(store.0).and(customers::id.eq_any(&ids)))
        .select((customers::id, SegmentIds(conditions)))
        .load(conn)
        .await?;
    Ok(rows.into_iter().filter(|(_, ids)| !ids.is_empty()).map(|(c, ids)| (CustomerId(c), ids)).collect())
}
