//! The store-level metrics state: RFM breakpoints and the fitted models, read together for a
//! request in one statement; and the per-customer inputs a fit needs.

use super::schema::{customers, metrics_models};
use crate::domain::ids::StoreId;
use crate::domain::metrics::OrderStats;
use crate::domain::btyd::{BgNbdParams, GammaGammaParams, Models};
use crate::domain::rfm::Breakpoints;
use crate::domain::segment::MetricsContext;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The stored model of a store.
#[derive(Queryable, QueryableByName, Selectable, Insertable, AsChangeset, serde::Deserialize, Debug, Clone, Default, PartialEq)]
#[diesel(table_name = metrics_models, check_for_backend(diesel::pg::Pg), treat_none_as_null = true)]
pub struct ModelRow {
    pub store_id: uuid::Uuid,
    pub bgnbd_r: Option<f64>,
    pub bgnbd_alpha: Option<f64>,
    pub bgnbd_a: Option<f64>,
    pub bgnbd_b: Option<f64>,
    pub bgnbd_log_likelihood: Option<f64>,
    pub bgnbd_iterations: Option<i32>,
    pub bgnbd_converged: bool,
    pub gamma_gamma_p: Option<f64>,
    pub gamma_gamma_q: Option<f64>,
    pub gamma_gamma_v: Option<f64>,
    pub gamma_gamma_converged: bool,
    pub customers_used: i32,
    pub repeat_customers_used: i32,
    pub orders_used: i64,
    pub observed_until: Option<NaiveDate>,
    pub fit_duration_ms: Option<i32>,
    pub fitted_at: Option<DateTime<Utc>>,
    pub fallback_reason: Option<String>,
}

/// What a request needs to compute any customer's metrics.
#[derive(Debug, Clone, Default)]
pub struct StoreMetricsState {
    pub breakpoints: Option<Breakpoints>,
    pub model: Option<ModelRow>,
}

impl StoreMetricsState {
    /// What metric rules evaluate against.
    pub fn rules_context(&self) -> MetricsContext {
        MetricsContext { breakpoints: self.breakpoints.clone(), models: self.model.as_ref().and_then(ModelRow::models) }
    }
}

impl ModelRow {
    /// The models this fit provides, when both parts converged.
    pub fn models(&self) -> Option<Models> {
        if !(self.bgnbd_converged && self.gamma_gamma_converged) {
            return None;
        }
        Some(Models {
            purchases: BgNbdParams { r: self.bgnbd_r?, alpha: self.bgnbd_alpha?, a: self.bgnbd_a?, b: self.bgnbd_b? },
            spend: GammaGammaParams { p: self.gamma_gamma_p?, q: self.gamma_gamma_q?, v: self.gamma_gamma_v? },
        })
    }
}

#[derive(QueryableByName)]
struct BreakpointsRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Array<diesel::sql_types::Timestamptz>>)]
    recency: Option<Vec<DateTime<Utc>>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Array<diesel::sql_types::Int4>>)]
    frequency: Option<Vec<i32>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Array<diesel::sql_types::Int8>>)]
    monetary: Option<Vec<i64>>,
}

impl BreakpointsRow {
    fn into_breakpoints(self) -> Option<Breakpoints> {
        Some(Breakpoints {
            recency: self.recency?.try_into().ok()?,
            frequency: self.frequency?.try_into().ok()?,
            monetary: self.monetary?.try_into().ok()?,
        })
    }
}

/// The store's breakpoints and model, in one statement (the model row travels as `to_jsonb`).
pub async fn state(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<StoreMetricsState> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        breakpoints: BreakpointsRow,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
        model: Option<serde_json::Value>,
    }
    let row: Row = diesel::sql_query(
        "SELECT b.recency, b.frequency, b.monetary, to_jsonb(m) AS model \
         FROM (SELECT $1::uuid AS store_id) s \
         LEFT JOIN rfm_breakpoints b ON b.store_id = s.store_id \
         LEFT JOIN metrics_models m ON m.store_id = s.store_id",
    )
    .bind::<SqlUuid, _>(store.0)
    .get_result(conn)
    .await?;
    let model = row.model.map(serde_json::from_value::<ModelRow>).transpose().map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
    Ok(StoreMetricsState { breakpoints: row.breakpoints.into_breakpoints(), model })
}

/// Recomputes the store's RFM breakpoints from its customers with orders (none: removed).
pub async fn refresh_breakpoints(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<()> {
    let updated = diesel::sql_query(
        "INSERT INTO rfm_breakpoints (store_id, recency, frequency, monetary, customers, computed_at) \
         SELECT $1, percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY last_order_at), \
                percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY total_orders), \
                percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY total_spent), count(*), now() \
         FROM customers WHERE store_id = $1 AND total_orders > 0 HAVING count(*) > 0 \
         ON CONFLICT (store_id) DO UPDATE SET recency = EXCLUDED.recency, frequency = EXCLUDED.frequency, \
              monetary = EXCLUDED.monetary, customers = EXCLUDED.customers, computed_at = EXCLUDED.computed_at",
    )
    .bind::<SqlUuid, _>(store.0)
    .execute(conn)
    .await?;
    if updated == 0 {
        diesel::sql_query("DELETE FROM rfm_breakpoints WHERE store_id = $1").bind::<SqlUuid, _>(store.0).execute(conn).await?;
    }
    Ok(())
}

/// Every buying customer's order aggregates (a fit's input).
pub async fn order_stats(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<Vec<OrderStats>> {
    type Row = (i32, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>, i32, i64);
    let rows: Vec<Row> = customers::table
        .filter(customers::store_id.eq(store.0).and(customers::total_orders.gt(0)))
        .select((
            customers::total_orders,
            customers::total_spent,
            customers::first_order_at,
            customers::last_order_at,
            customers::order_days,
            customers::first_day_spent,
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(total_orders, total_spent, first_order_at, last_order_at, order_days, first_day_spent)| OrderStats {
            total_orders,
            total_spent,
            first_order_at,
            last_order_at,
            order_days,
            first_day_spent,
        })
        .collect())
}

/// Saves a fit (replacing the previous one).
pub async fn save_model(conn: &mut AsyncPgConnection, model: &ModelRow) -> QueryResult<()> {
    diesel::insert_into(metrics_models::table)
        .values(model)
        .on_conflict(metrics_models::store_id)
        .do_update()
        .set(model)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores with buying customers, and how many orders each has now (refits are due when this
/// grew enough since the last fit).
pub async fn stores_with_orders(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(uuid::Uuid, i64, Option<i64>)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        store_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        orders: i64,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        orders_used: Option<i64>,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT c.store_id, sum(c.total_orders)::int8 AS orders, m.orders_used \
         FROM customers c LEFT JOIN metrics_models m ON m.store_id = c.store_id \
         WHERE c.total_orders > 0 GROUP BY c.store_id, m.orders_used",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.store_id, r.orders, r.orders_used)).collect())
}
