//! Activity events: recording (idempotent on `external_id`, moving order totals in the same
//! transaction) and timelines for many customers in one statement.

use super::enrichment;
use super::json_text::JsonText;
use super::prepared::Prepared;
use super::schema::{activity_events, customers};
use crate::domain::activity::{ActivityKind, NewActivity};
use crate::domain::ids::{CustomerId, EventId, StoreId};
use crate::domain::money::{MAX_CENTS, MAX_MAJOR};
use crate::domain::InputError;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel::upsert::on_constraint;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// An event as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = activity_events, check_for_backend(Pg))]
pub struct EventRow {
    pub id: uuid::Uuid,
    pub customer_id: uuid::Uuid,
    pub event_type: String,
    pub occurred_at: DateTime<Utc>,
    pub title: String,
    pub amount: Option<i64>,
    pub external_id: Option<String>,
    pub order_id: Option<String>,
    pub campaign_id: Option<String>,
    pub referrer: Option<String>,
    pub agent: Option<String>,
    pub properties: JsonText,
    pub created_at: DateTime<Utc>,
}

/// One event to record, with where it sits in the request (for error paths).
pub struct Recording<'a> {
    pub customer: CustomerId,
    pub event: &'a NewActivity,
    /// The argument path of the customer id, e.g. `customerId` or `events.3.customerId`.
    pub customer_path: String,
    /// The argument path of the event's input, e.g. `input` or `events.3.event`.
    pub event_path: String,
}

/// Records events in one transaction. Each result says whether the event was new; an event
/// whose `external_id` was recorded before (also earlier in the same batch) is returned as it
/// was and changes nothing. ORDER events add to their customer's totals. Customers are locked in
/// id order, so concurrent batches cannot deadlock and concurrent orders sum exactly.
pub async fn record(conn: &mut AsyncPgConnection, store: StoreId, batch: &[Recording<'_>]) -> Result<Vec<(EventRow, bool)>, AppError> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    conn.transaction(async move |conn| {
        let mut ids: Vec<uuid::Uuid> = batch.iter().map(|r| r.customer.0).collect();
        ids.sort();
        ids.dedup();
        let found: Vec<uuid::Uuid> = customers::table
            .filter(customers::store_id.eq(store.0).and(customers::id.eq_any(&ids)))
            .select(customers::id)
            .order(customers::id)
            .for_update()
            .load(conn)
            .await?;
        if let Some(missing) = batch.iter().find(|r| found.binary_search(&r.customer.0).is_err()) {
            return Err(AppError::not_found("customer", missing.customer, &missing.customer_path));
        }
        let planned: Vec<EventId> = batch.iter().map(|_| EventId::generate()).collect();
        let rows: Vec<_> = batch.iter().zip(&planned).map(|(r, id)| insertable(store, *id, r)).collect();
        let inserted: Vec<EventRow> = diesel::insert_into(activity_events::table)
            .values(rows)
            .on_conflict(on_constraint("activity_events_external_id_key"))
            .do_nothing()
            .returning(EventRow::as_returning())
            .get_results(conn)
            .await?;
        let over = recompute_order_totals(conn, store, &inserted).await?;
        if let Some(first) = batch.iter().find(|r| over.contains(&r.customer.0) && r.event.kind == ActivityKind::Order) {
            let message = format!("would take the customer's total of orders past {MAX_MAJOR} (100 billion), the most a total may hold");
            return Err(AppError::BadUserInput(InputError::new(&format!("{}.amount", first.event_path), message)));
        }
        let mut touched: Vec<uuid::Uuid> = inserted.iter().map(|e| e.customer_id).collect();
        touched.sort();
        touched.dedup();
        enrichment::events_arrived(conn, store, &touched).await?;
        let mut inserted: HashMap<uuid::Uuid, EventRow> = inserted.into_iter().map(|e| (e.id, e)).collect();
        let replays: Vec<&str> = batch
            .iter()
            .zip(&planned)
            .filter(|(_, id)| !inserted.contains_key(&id.0))
            .filter_map(|(r, _)| r.event.external_id.as_deref())
            .collect();
        let earlier: HashMap<String, EventRow> = if replays.is_empty() {
            HashMap::new()
        } else {
            activity_events::table
                .filter(activity_events::store_id.eq(store.0).and(activity_events::external_id.eq_any(&replays)))
                .select(EventRow::as_select())
                .load::<EventRow>(conn)
                .await?
                .into_iter()
                .filter_map(|e| Some((e.external_id.clone()?, e)))
                .collect()
        };
        batch
            .iter()
            .zip(&planned)
            .map(|(recording, id)| match inserted.remove(&id.0) {
                Some(row) => Ok((row, true)),
                None => replayed(recording, &earlier),
            })
            .collect()
    })
    .await
}

/// The earlier event a replayed recording stands for; its customer must be the same.
fn replayed(recording: &Recording<'_>, earlier: &HashMap<String, EventRow>) -> Result<(EventRow, bool), AppError> {
    let row = recording
        .event
        .external_id
        .as_deref()
        .and_then(|x| earlier.get(x))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("event neither inserted nor found")))?;
    if row.customer_id != recording.customer.0 {
        let path = format!("{}.externalId", recording.event_path);
        return Err(AppError::Conflict(InputError::new(&path, "was already used for an event of another customer")));
    }
    Ok((row.clone(), false))
}

type EventValues = (
    diesel::dsl::Eq<activity_events::store_id, uuid::Uuid>,
    diesel::dsl::Eq<activity_events::id, uuid::Uuid>,
    diesel::dsl::Eq<activity_events::customer_id, uuid::Uuid>,
    diesel::dsl::Eq<activity_events::event_type, &'static str>,
    diesel::dsl::Eq<activity_events::occurred_at, DateTime<Utc>>,
    diesel::dsl::Eq<activity_events::title, String>,
    diesel::dsl::Eq<activity_events::amount, Option<i64>>,
    diesel::dsl::Eq<activity_events::external_id, Option<String>>,
    diesel::dsl::Eq<activity_events::order_id, Option<String>>,
    diesel::dsl::Eq<activity_events::campaign_id, Option<String>>,
    diesel::dsl::Eq<activity_events::referrer, Option<String>>,
    diesel::dsl::Eq<activity_events::agent, Option<String>>,
    diesel::dsl::Eq<activity_events::properties, serde_json::Value>,
);

fn insertable(store: StoreId, id: EventId, r: &Recording<'_>) -> EventValues {
    let e = r.event;
    (
        activity_events::store_id.eq(store.0),
        activity_events::id.eq(id.0),
        activity_events::customer_id.eq(r.customer.0),
        activity_events::event_type.eq(e.kind.as_str()),
        activity_events::occurred_at.eq(e.occurred_at),
        activity_events::title.eq(e.title.clone()),
        activity_events::amount.eq(e.amount.map(|a| a.0)),
        activity_events::external_id.eq(e.external_id.clone()),
        activity_events::order_id.eq(e.order_id.clone()),
        activity_events::campaign_id.eq(e.campaign_id.clone()),
        activity_events::referrer.eq(e.referrer.clone()),
        activity_events::agent.eq(e.agent.clone()),
        activity_events::properties.eq(e.properties.clone()),
    )
}

/// A customer whose total of orders would pass [`MAX_CENTS`].
#[derive(QueryableByName)]
struct OverLimit {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
}

/// Recomputes the order aggregates of every customer with a newly recorded order from its ORDER
/// events, in one statement: totals, first and last order, distinct UTC order days and the
/// first day's spend (the inputs of the metrics models). Recomputing rather than adding keeps them
/// exact whatever order events arrive in (a backfilled order can change the first purchase day).
/// When any customer's total would pass [`MAX_CENTS`] nothing is updated and those customers are
/// returned (the caller refuses the batch and its transaction rolls back); the totals are summed
/// exactly (`numeric`) and compared in the same statement, under the customers' row locks.
async fn recompute_order_totals(conn: &mut AsyncPgConnection, store: StoreId, inserted: &[EventRow]) -> QueryResult<Vec<uuid::Uuid>> {
    let mut ids: Vec<uuid::Uuid> = inserted.iter().filter(|e| e.event_type == ActivityKind::Order.as_str()).map(|e| e.customer_id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    ids.sort();
    ids.dedup();
    diesel::sql_query(
        "WITH orders AS ( \
           SELECT customer_id, occurred_at, amount, (occurred_at AT TIME ZONE 'UTC')::date AS day \
           FROM activity_events WHERE store_id = $1 AND customer_id = ANY($2) AND event_type = 'ORDER'), \
         first_days AS (SELECT customer_id, min(day) AS first_day FROM orders GROUP BY customer_id), \
         totals AS (SELECT o.customer_id, count(*)::int AS orders, coalesce(sum(o.amount), 0) AS spent, \
                      min(o.occurred_at) AS first_at, max(o.occurred_at) AS last_at, count(DISTINCT o.day)::int AS days, \
                      coalesce(sum(o.amount) FILTER (WHERE o.day = f.first_day), 0) AS first_day_spent \
               FROM orders o JOIN first_days f USING (customer_id) GROUP BY o.customer_id), \
         over AS (SELECT customer_id FROM totals WHERE spent > $3), \
         updated AS ( \
           UPDATE customers c SET total_orders = t.orders, total_spent = least(t.spent, $3)::int8, first_order_at = t.first_at, \
                  last_order_at = t.last_at, order_days = t.days, first_day_spent = least(t.first_day_spent, $3)::int8 \
           FROM totals t \
           WHERE c.store_id = $1 AND c.id = t.customer_id AND NOT EXISTS (SELECT 1 FROM over) RETURNING c.id) \
         SELECT customer_id AS id FROM over",
    )
    .bind::<SqlUuid, _>(store.0)
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<BigInt, _>(MAX_CENTS)
    .load::<OverLimit>(conn)
    .await
    .map(|over| over.into_iter().map(|o| o.id).collect())
}

/// Which events of a timeline to show, and from where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TimelineQuery {
    /// Only these types (stored form), when not empty.
    pub types: Vec<&'static str>,
    /// Only events strictly after this time.
    pub after: Option<DateTime<Utc>>,
    /// Only events strictly before this time.
    pub before: Option<DateTime<Utc>>,
    /// Continue after this (occurred_at, id) position, newest first.
    pub position: Option<(DateTime<Utc>, uuid::Uuid)>,
    /// Rows per customer (one more than the page, to know whether more follow).
    pub limit: i64,
}

/// The newest events of each customer in `customers` matching `query`, in one statement
/// (a LATERAL index scan per customer).
pub async fn timelines(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    customers: &[CustomerId],
    query: &TimelineQuery,
) -> QueryResult<HashMap<CustomerId, Vec<EventRow>>> {
    let ids: Vec<uuid::Uuid> = customers.iter().map(|c| c.0).collect();
    let mut statement = Prepared::<SqlTypeOf<AsSelect<EventRow, Pg>>>::default()
        .sql(
            "SELECT e.* FROM unnest(",
        )
        .bind::<Array<SqlUuid>, _>(ids)
        .sql(
            "::uuid[]) AS c(id) CROSS JOIN LATERAL ( \
               SELECT e.id, e.customer_id, e.event_type, e.occurred_at, e.title, e.amount, e.external_id, e.order_id, \
                      e.campaign_id, e.referrer, e.agent, e.properties, e.created_at \
               FROM activity_events e WHERE e.customer_id = c.id AND e.store_id = ",
        )
        .bind::<SqlUuid, _>(store.0);
    if !query.types.is_empty() {
        statement = statement.sql(" AND e.event_type = ANY(").bind::<Array<Text>, _>(query.types.clone()).sql(")");
    }
    if let Some(after) = query.after {
        statement = statement.sql(" AND e.occurred_at > ").bind::<Timestamptz, _>(after);
    }
    if let Some(before) = query.before {
        statement = statement.sql(" AND e.occurred_at < ").bind::<Timestamptz, _>(before);
    }
    if let Some((t, id)) = query.position {
        statement = statement.sql(" AND (e.occurred_at, e.id) < (").bind::<Timestamptz, _>(t).sql(", ").bind::<SqlUuid, _>(id).sql(")");
    }
    let statement = statement.sql(" ORDER BY e.occurred_at DESC, e.id DESC LIMIT ").bind::<BigInt, _>(query.limit).sql(") e");
    let rows: Vec<EventRow> = statement.load(conn).await?;
    let mut out: HashMap<CustomerId, Vec<EventRow>> = HashMap::new();
    for row in rows {
        out.entry(CustomerId(row.customer_id)).or_default().push(row);
    }
    Ok(out)
}
