//! Enrichment rows: the profile facts written in the transaction of every profile change, the
//! behaviour facts recomputed from the timeline by a job (`enrichment.behaviour`, one queued per
//! store) after events arrive, and rows backfilled for customers that predate them.

use super::customers::CustomerRow;
use super::jobs::{self, NewJob};
use super::prepared::Prepared;
use super::schema::{customer_addresses, customer_enrichment, customers};
use crate::domain::enrichment::{self, ProfileFacts, Whereabouts};
use crate::domain::ids::{CustomerId, StoreId};
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel::upsert::excluded;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

/// The job kind that recomputes a store's stale behaviour facts (payload: none).
pub const BEHAVIOUR_JOB: &str = "enrichment.behaviour";
/// Customers one behaviour statement recomputes at most (the job repeats until none is left).
const BEHAVIOUR_BATCH: i64 = 500;

/// A customer's enrichment as stored.
#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = customer_enrichment, check_for_backend(Pg))]
pub struct EnrichmentRow {
    pub customer_id: uuid::Uuid,
    pub phone_e164: Option<String>,
    pub phone_country: Option<String>,
    pub phone_line_type: Option<String>,
    pub phone_valid: Option<bool>,
    pub email_normalized: String,
    pub email_domain: String,
    pub free_email_provider: bool,
    pub disposable_email: bool,
    pub role_account: bool,
    pub company_domain: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    pub most_active_hour: Option<i32>,
    pub most_active_weekday: Option<i32>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub behaviour_version: i64,
    pub behaviour_computed: i64,
    pub updated_at: DateTime<Utc>,
}

impl EnrichmentRow {
    /// The facts as one flat JSON object (export archives).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "phoneE164": self.phone_e164, "phoneCountry": self.phone_country, "phoneLineType": self.phone_line_type,
            "phoneValid": self.phone_valid, "emailNormalized": self.email_normalized, "emailDomain": self.email_domain,
            "freeEmailProvider": self.free_email_provider, "disposableEmail": self.disposable_email, "roleAccount": self.role_account,
            "companyDomain": self.company_domain, "country": self.country, "region": self.region, "timeZone": self.time_zone,
            "preferredChannel": self.preferred_channel, "mostActiveHour": self.most_active_hour,
            "mostActiveWeekday": self.most_active_weekday, "lastSeenAt": self.last_seen_at.map(super::json_text::time),
        })
    }

    /// Whether events (or a new time zone) arrived since the behaviour facts were computed.
    pub fn behaviour_pending(&self) -> bool {
        self.behaviour_version > self.behaviour_computed
    }
}

/// Writes the customer's profile facts (from their profile and default address, as this
/// transaction sees them). A new time zone makes the behaviour facts stale — their hours are
/// local — and queues their recomputation; so does a first row for a customer who may have
/// events (`new_customer` false).
pub async fn refresh_profile(conn: &mut AsyncPgConnection, customer: &CustomerRow, new_customer: bool) -> QueryResult<()> {
    let store = StoreId(customer.store_id);
    let address: Option<(Option<String>, Option<String>)> = customer_addresses::table
        .filter(customer_addresses::store_id.eq(store.0).and(customer_addresses::customer_id.eq(customer.id)))
        .filter(customer_addresses::is_default)
        .select((customer_addresses::country, customer_addresses::state))
        .first(conn)
        .await
        .optional()?;
    let (country, region) = address.unwrap_or_default();
    let facts = enrichment::profile(&customer.email, customer.phone.as_deref(), Whereabouts { country: country.as_deref(), region: region.as_deref() });
    let stale = upsert(conn, store, &[(customer.customer_id(), facts)], !new_customer).await?;
    if stale {
        queue_behaviour(conn, store).await?;
    }
    Ok(())
}

/// Upserts customers' profile facts (a new row's behaviour starts stale when `stale_on_insert`);
/// whether any of their behaviour facts are now stale.
async fn upsert(conn: &mut AsyncPgConnection, store: StoreId, facts: &[(CustomerId, ProfileFacts)], stale_on_insert: bool) -> QueryResult<bool> {
    let rows: Vec<_> = facts.iter().map(|(customer, facts)| row(store, *customer, facts, stale_on_insert)).collect();
    let versions: Vec<(i64, i64)> = diesel::insert_into(customer_enrichment::table)
        .values(rows)
        .on_conflict((customer_enrichment::store_id, customer_enrichment::customer_id))
        .do_update()
        .set((
            customer_enrichment::phone_e164.eq(excluded(customer_enrichment::phone_e164)),
            customer_enrichment::phone_country.eq(excluded(customer_enrichment::phone_country)),
            customer_enrichment::phone_line_type.eq(excluded(customer_enrichment::phone_line_type)),
            customer_enrichment::phone_valid.eq(excluded(customer_enrichment::phone_valid)),
            customer_enrichment::email_normalized.eq(excluded(customer_enrichment::email_normalized)),
            customer_enrichment::email_domain.eq(excluded(customer_enrichment::email_domain)),
            customer_enrichment::free_email_provider.eq(excluded(customer_enrichment::free_email_provider)),
            customer_enrichment::disposable_email.eq(excluded(customer_enrichment::disposable_email)),
            customer_enrichment::role_account.eq(excluded(customer_enrichment::role_account)),
            customer_enrichment::company_domain.eq(excluded(customer_enrichment::company_domain)),
            customer_enrichment::country.eq(excluded(customer_enrichment::country)),
            customer_enrichment::region.eq(excluded(customer_enrichment::region)),
            customer_enrichment::behaviour_version.eq(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "CASE WHEN customer_enrichment.time_zone IS DISTINCT FROM excluded.time_zone \
                 THEN customer_enrichment.behaviour_version + 1 ELSE customer_enrichment.behaviour_version END",
            )),
            customer_enrichment::time_zone.eq(excluded(customer_enrichment::time_zone)),
            customer_enrichment::updated_at.eq(diesel::dsl::now),
        ))
        .returning((customer_enrichment::behaviour_version, customer_enrichment::behaviour_computed))
        .get_results(conn)
        .await?;
    Ok(versions.iter().any(|(version, computed)| version > computed))
}

type Row<'a> = (
    diesel::dsl::Eq<customer_enrichment::store_id, uuid::Uuid>,
    diesel::dsl::Eq<customer_enrichment::customer_id, uuid::Uuid>,
    diesel::dsl::Eq<customer_enrichment::phone_e164, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::phone_country, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::phone_line_type, Option<&'static str>>,
    diesel::dsl::Eq<customer_enrichment::phone_valid, Option<bool>>,
    diesel::dsl::Eq<customer_enrichment::email_normalized, &'a str>,
    diesel::dsl::Eq<customer_enrichment::email_domain, &'a str>,
    diesel::dsl::Eq<customer_enrichment::free_email_provider, bool>,
    diesel::dsl::Eq<customer_enrichment::disposable_email, bool>,
    diesel::dsl::Eq<customer_enrichment::role_account, bool>,
    diesel::dsl::Eq<customer_enrichment::company_domain, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::country, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::region, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::time_zone, Option<&'a str>>,
    diesel::dsl::Eq<customer_enrichment::behaviour_version, i64>,
);

fn row(store: StoreId, customer: CustomerId, facts: &ProfileFacts, stale: bool) -> Row<'_> {
    let phone = facts.phone.as_ref();
    (
        customer_enrichment::store_id.eq(store.0),
        customer_enrichment::customer_id.eq(customer.0),
        customer_enrichment::phone_e164.eq(phone.and_then(|p| p.e164.as_deref())),
        customer_enrichment::phone_country.eq(phone.and_then(|p| p.country.as_deref())),
        customer_enrichment::phone_line_type.eq(phone.and_then(|p| p.line_type).map(|t| t.as_str())),
        customer_enrichment::phone_valid.eq(phone.map(|p| p.valid)),
        customer_enrichment::email_normalized.eq(facts.email.normalized.as_str()),
        customer_enrichment::email_domain.eq(facts.email.domain.as_str()),
        customer_enrichment::free_email_provider.eq(facts.email.free_provider),
        customer_enrichment::disposable_email.eq(facts.email.disposable),
        customer_enrichment::role_account.eq(facts.email.role_account),
        customer_enrichment::company_domain.eq(facts.email.company_domain.as_deref()),
        customer_enrichment::country.eq(facts.location.country.as_deref()),
        customer_enrichment::region.eq(facts.location.region.as_deref()),
        customer_enrichment::time_zone.eq(facts.location.time_zone.as_deref()),
        customer_enrichment::behaviour_version.eq(i64::from(stale)),
    )
}

/// Marks the customers' behaviour facts stale (new events) and queues their recomputation, in
/// the caller's transaction.
pub async fn events_arrived(conn: &mut AsyncPgConnection, store: StoreId, customers: &[uuid::Uuid]) -> QueryResult<()> {
    let n = diesel::update(customer_enrichment::table.filter(customer_enrichment::store_id.eq(store.0).and(customer_enrichment::customer_id.eq_any(customers))))
        .set(customer_enrichment::behaviour_version.eq(customer_enrichment::behaviour_version + 1))
        .execute(conn)
        .await?;
    if n > 0 {
        queue_behaviour(conn, store).await?;
    }
    Ok(())
}

/// Queues the store's behaviour job (one at a time: a queued one is reused).
pub async fn queue_behaviour(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<()> {
    queue_behaviour_at(conn, store, None).await
}

/// Queues the store's behaviour job to run at `at` (now when `None`).
pub async fn queue_behaviour_at(conn: &mut AsyncPgConnection, store: StoreId, at: Option<DateTime<Utc>>) -> QueryResult<()> {
    let job = NewJob { store, kind: BEHAVIOUR_JOB, lane: super::jobs::lanes::MAINTENANCE, payload: serde_json::json!({}), dedupe_key: Some("behaviour".into()), max_attempts: 5, run_at: at };
    jobs::enqueue(conn, &job).await?;
    Ok(())
}

/// Recomputes the behaviour facts of up to a batch of the store's stale customers from their
/// timelines, in their time zone (UTC where it is not known): the most frequent activity type
/// (ties: the most recent), the most frequent hour and ISO weekday (ties: the earliest), the
/// latest event. Rows being written meanwhile are skipped (and stay stale). Returns how many
/// were recomputed.
///
/// Two statements in one transaction: the first locks the stale rows and reads their versions;
/// the second, with a snapshot taken after those locks, sees every event whose version bump it
/// read (an ingest inserts its events before it bumps), and later bumps wait for the locks.
pub async fn refresh_behaviour(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<usize> {
    conn.transaction(async move |conn| {
        let stale: Vec<(uuid::Uuid, i64, Option<String>)> = customer_enrichment::table
            .filter(customer_enrichment::store_id.eq(store.0))
            .filter(customer_enrichment::behaviour_version.gt(customer_enrichment::behaviour_computed))
            .select((customer_enrichment::customer_id, customer_enrichment::behaviour_version, customer_enrichment::time_zone))
            .limit(BEHAVIOUR_BATCH)
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        if stale.is_empty() {
            return Ok(0);
        }
        let ids: Vec<uuid::Uuid> = stale.iter().map(|s| s.0).collect();
        let versions: Vec<i64> = stale.iter().map(|s| s.1).collect();
        let zones: Vec<String> = stale.iter().map(|s| s.2.clone().unwrap_or_else(|| "UTC".into())).collect();
        Prepared::<()>::default()
            .sql("WITH stale AS (SELECT * FROM unnest(")
            .bind::<Array<SqlUuid>, _>(ids)
            .sql(", ")
            .bind::<Array<BigInt>, _>(versions)
            .sql(", ")
            .bind::<Array<Text>, _>(zones)
            .sql(
                ") AS s(customer_id, version, tz)), \
                 events AS ( \
                   SELECT e.customer_id, e.event_type, e.occurred_at, e.occurred_at AT TIME ZONE s.tz AS local \
                   FROM activity_events e JOIN stale s ON s.customer_id = e.customer_id WHERE e.store_id = ",
            )
            .bind::<SqlUuid, _>(store.0)
            .sql(
                "), \
                 channel AS ( \
                   SELECT DISTINCT ON (customer_id) customer_id, event_type FROM events \
                   GROUP BY customer_id, event_type ORDER BY customer_id, count(*) DESC, max(occurred_at) DESC), \
                 hour AS ( \
                   SELECT DISTINCT ON (customer_id) customer_id, date_part('hour', local)::int AS h FROM events \
                   GROUP BY customer_id, 2 ORDER BY customer_id, count(*) DESC, 2), \
                 weekday AS ( \
                   SELECT DISTINCT ON (customer_id) customer_id, date_part('isodow', local)::int AS d FROM events \
                   GROUP BY customer_id, 2 ORDER BY customer_id, count(*) DESC, 2), \
                 seen AS (SELECT customer_id, max(occurred_at) AS at FROM events GROUP BY customer_id) \
                 UPDATE customer_enrichment c SET preferred_channel = channel.event_type, most_active_hour = hour.h, \
                   most_active_weekday = weekday.d, last_seen_at = seen.at, behaviour_computed = stale.version, updated_at = now() \
                 FROM stale \
                   LEFT JOIN channel ON channel.customer_id = stale.customer_id \
                   LEFT JOIN hour ON hour.customer_id = stale.customer_id \
                   LEFT JOIN weekday ON weekday.customer_id = stale.customer_id \
                   LEFT JOIN seen ON seen.customer_id = stale.customer_id \
                 WHERE c.store_id = ",
            )
            .bind::<SqlUuid, _>(store.0)
            .sql(" AND c.customer_id = stale.customer_id")
            .execute(conn)
            .await
    })
    .await
}

/// Whether any of the store's behaviour facts are stale (some may be locked by a writer).
pub async fn behaviour_stale(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<bool> {
    let found: Option<uuid::Uuid> = customer_enrichment::table
        .filter(customer_enrichment::store_id.eq(store.0))
        .filter(customer_enrichment::behaviour_version.gt(customer_enrichment::behaviour_computed))
        .select(customer_enrichment::customer_id)
        .first(conn)
        .await
        .optional()?;
    Ok(found.is_some())
}

/// The stores with stale behaviour facts (the periodic pass queues their jobs again, in case a
/// job was lost with a rolled-back transaction or gave up).
pub async fn stores_with_stale_behaviour(conn: &mut AsyncPgConnection) -> QueryResult<Vec<uuid::Uuid>> {
    customer_enrichment::table
        .filter(customer_enrichment::behaviour_version.gt(customer_enrichment::behaviour_computed))
        .select(customer_enrichment::store_id)
        .distinct()
        .load(conn)
        .await
}

/// Writes enrichment rows for up to `limit` of the store's customers after `after` (by id) that
/// have none — customers loaded in bulk, or from before enrichment existed — and returns the
/// last customer looked at (`None` when there are no more). Customers being written meanwhile
/// are skipped (until the next run), and a row written meanwhile is kept.
pub async fn backfill(conn: &mut AsyncPgConnection, store: StoreId, after: Option<uuid::Uuid>, limit: i64) -> QueryResult<Option<uuid::Uuid>> {
    conn.transaction(async move |conn| {
        // lock the customers (their key) first, skipping any being written
        let ids: Vec<uuid::Uuid> = customers::table
            .filter(customers::store_id.eq(store.0).and(customers::id.gt(after.unwrap_or_default())))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                customer_enrichment::table.filter(customer_enrichment::store_id.eq(customers::store_id).and(customer_enrichment::customer_id.eq(customers::id))),
            )))
            .order(customers::id)
            .limit(limit)
            .select(customers::id)
            .for_key_share()
            .skip_locked()
            .load(conn)
            .await?;
        let missing: Vec<(CustomerRow, Option<String>, Option<String>)> = customers::table
            .left_join(
                customer_addresses::table.on(customer_addresses::store_id
                    .eq(customers::store_id)
                    .and(customer_addresses::customer_id.eq(customers::id))
                    .and(customer_addresses::is_default)),
            )
            .filter(customers::store_id.eq(store.0).and(customers::id.eq_any(&ids)))
            .order(customers::id)
            .select((CustomerRow::as_select(), customer_addresses::country.nullable(), customer_addresses::state.nullable()))
            .load(conn)
            .await?;
        let Some(last) = missing.last().map(|(c, _, _)| c.id) else { return Ok(None) };
        let facts: Vec<(CustomerId, ProfileFacts)> = missing
            .iter()
            .map(|(customer, country, region)| {
                let whereabouts = Whereabouts { country: country.as_deref(), region: region.as_deref() };
                (customer.customer_id(), enrichment::profile(&customer.email, customer.phone.as_deref(), whereabouts))
            })
            .collect();
        let rows: Vec<_> = facts.iter().map(|(customer, facts)| row(store, *customer, facts, true)).collect();
        diesel::insert_into(customer_enrichment::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
        queue_behaviour(conn, store).await?;
        Ok(Some(last))
    })
    .await
}

/// Backfills every store's customers that lack enrichment; returns how many stores had some.
pub async fn backfill_all(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    // fresh statistics: a table the planner believes empty makes the anti-join quadratic
    diesel::sql_query("ANALYZE customers, customer_enrichment").execute(conn).await?;
    let stores: Vec<uuid::Uuid> = super::schema::stores::table.select(super::schema::stores::id).load(conn).await?;
    let mut filled = 0;
    for store in stores {
        let mut after = None;
        let mut any = false;
        while let Some(last) = backfill(conn, StoreId(store), after, BACKFILL_BATCH).await? {
            after = Some(last);
            any = true;
        }
        filled += usize::from(any);
    }
    Ok(filled)
}

/// Customers one backfill statement writes at most.
const BACKFILL_BATCH: i64 = 2000;

/// The enrichment rows of these customers.
pub async fn for_customers(conn: &mut AsyncPgConnection, store: StoreId, ids: &[CustomerId]) -> QueryResult<HashMap<CustomerId, EnrichmentRow>> {
    let uuids: Vec<uuid::Uuid> = ids.iter().map(|c| c.0).collect();
    let rows: Vec<EnrichmentRow> = customer_enrichment::table
        .filter(customer_enrichment::store_id.eq(store.0).and(customer_enrichment::customer_id.eq_any(uuids)))
        .select(EnrichmentRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (CustomerId(r.customer_id), r)).collect())
}
