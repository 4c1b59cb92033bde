//! Loading many customers with histories fast: profiles are generated and validated like API
//! input, totals are computed from the generated orders exactly as recording them would, and rows
//! go in thousands per statement (`db::bulk`). With a progress bar.

use super::history::{self, SeedNote};
use super::people::raw_customer;
use crate::db::enrichment;
use crate::db::bulk::{self as rows, BulkCustomer, BulkEvent, BulkNote};
use crate::domain::activity::{ActivityKind, NewActivity};
use crate::domain::customer::NewCustomer;
use crate::domain::ids::{CustomerId, EventId, NoteId, StoreId};
use chrono::{Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How many events each customer gets.
#[derive(Debug, Clone, Copy)]
pub enum Events {
    /// A natural history (some customers never buy; buyers come back at their own pace).
    Natural,
    /// Exactly this many, of mixed types.
    Exactly(usize),
}

/// Customers per transaction.
const CHUNK: usize = 2000;

/// What was loaded.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    pub customers: usize,
    pub events: usize,
    pub notes: usize,
}

/// Loads `count` customers into `store`.
pub async fn load(conn: &mut AsyncPgConnection, store: StoreId, count: usize, events: Events, seed: u64) -> anyhow::Result<Loaded> {
    let mut rng = StdRng::seed_from_u64(seed);
    let now = Utc::now();
    let bar = ProgressBar::new(count as u64)
        .with_style(ProgressStyle::with_template("{msg:>10} {bar:40} {pos}/{len} ({per_sec}, {eta} left)")?)
        .with_message("customers");
    let mut loaded = Loaded::default();
    let mut order_numbers = 0;
    for start in (0..count).step_by(CHUNK) {
        let mut customers = Vec::with_capacity(CHUNK);
        let mut all_events = Vec::new();
        let mut all_notes = Vec::new();
        for i in start..(start + CHUNK).min(count) {
            let profile = NewCustomer::parse(&raw_customer(&mut rng, i)).map_err(|e| anyhow::anyhow!("person {i}: {e:?}"))?;
            let created = now - Duration::minutes(rng.random_range(60..730 * 24 * 60));
            let id = CustomerId::generate();
            let (history, notes) = match events {
                Events::Natural => history::natural(&mut rng, created, now, &mut order_numbers),
                Events::Exactly(n) => (history::exactly(&mut rng, n, created, now, &mut order_numbers), Vec::new()),
            };
            customers.push(customer_row(id, &profile, &history, created));
            all_events.extend(history.iter().map(|e| event_row(id, e)));
            all_notes.extend(notes.into_iter().map(|n: SeedNote| BulkNote { id: NoteId::generate().0, customer_id: id.0, body: n.body, author: n.author, created_at: n.at }));
        }
        conn.transaction(async |conn| {
            rows::insert_customers(conn, store, &customers).await?;
            for chunk in all_events.chunks(50_000) {
                rows::insert_events(conn, store, chunk).await?;
            }
            if !all_notes.is_empty() {
                rows::insert_notes(conn, store, &all_notes).await?;
            }
            diesel::QueryResult::Ok(())
        })
        .await?;
        loaded.customers += customers.len();
        loaded.events += all_events.len();
        loaded.notes += all_notes.len();
        bar.inc(customers.len() as u64);
    }
    bar.finish_with_message("done");
    // enrichment, as the API writes it for each customer (profile) and after events (behaviour),
    // planned with statistics that know about the rows just loaded
    diesel_async::RunQueryDsl::execute(diesel::sql_query("ANALYZE customers, customer_addresses, activity_events, customer_enrichment"), conn).await?;
    let mut after = None;
    while let Some(last) = enrichment::backfill(conn, store, after, 2000).await? {
        after = Some(last);
    }
    while enrichment::refresh_behaviour(conn, store).await? > 0 {}
    Ok(loaded)
}

fn customer_row(id: CustomerId, new: &NewCustomer, history: &[NewActivity], created: chrono::DateTime<Utc>) -> BulkCustomer {
    let orders: Vec<&NewActivity> = history.iter().filter(|e| e.kind == ActivityKind::Order).collect();
    let day = |e: &&NewActivity| e.occurred_at.date_naive();
    let mut days: Vec<chrono::NaiveDate> = orders.iter().map(day).collect();
    days.sort();
    days.dedup();
    let first_day_spent = days.first().map_or(0, |first| orders.iter().filter(|e| day(e) == *first).filter_map(|e| e.amount).map(|a| a.0).sum());
    let address = new.addresses.first();
    let text = |v: Option<&String>| v.cloned().unwrap_or_default();
    BulkCustomer {
        id: id.0,
        email: new.profile.email.as_str().to_owned(),
        first_name: new.profile.first_name.clone().unwrap_or_default(),
        last_name: new.profile.last_name.clone().unwrap_or_default(),
        phone: new.profile.phone.clone(),
        tags: new.profile.tags.clone().into_vec(),
        metadata: new.profile.metadata.to_json(),
        total_orders: orders.len() as i32,
        total_spent: orders.iter().filter_map(|e| e.amount).map(|a| a.0).sum(),
        first_order_at: orders.iter().map(|e| e.occurred_at).min(),
        last_order_at: orders.iter().map(|e| e.occurred_at).max(),
        order_days: days.len() as i32,
        first_day_spent,
        created_at: created,
        line1: text(address.and_then(|a| a.line1.as_ref())),
        city: text(address.and_then(|a| a.city.as_ref())),
        state: address.and_then(|a| a.state.clone()),
        postal_code: text(address.and_then(|a| a.postal_code.as_ref())),
        country: text(address.and_then(|a| a.country.as_ref())),
    }
}

fn event_row(customer: CustomerId, e: &NewActivity) -> BulkEvent {
    BulkEvent {
        id: EventId::generate().0,
        customer_id: customer.0,
        event_type: e.kind.as_str(),
        occurred_at: e.occurred_at,
        title: e.title.clone(),
        amount: e.amount.map(|a| a.0),
        order_id: e.order_id.clone(),
        campaign_id: e.campaign_id.clone(),
        referrer: e.referrer.clone(),
        agent: e.agent.clone(),
        properties: e.properties.clone(),
    }
}
