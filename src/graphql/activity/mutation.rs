//! Recording activity: one event, or up to 1,000 in one transaction for importers.

use super::inputs::{ActivityInput, CustomerActivityInput};
use super::types::ActivityEvent;
use crate::db::activity::{self, EventRow, Recording};
use crate::db::customers;
use crate::domain::activity::{MAX_BATCH, NewActivity, RawActivity};
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use crate::graphql::customers::types::Customer;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use std::sync::Arc;
use chrono::Utc;

/// Activity ingestion.
#[derive(Default)]
pub struct ActivityMutation;

/// The result of `recordActivity`.
pub struct RecordActivityPayload {
    event: Arc<EventRow>,
    created: bool,
}

/// The result of `recordActivity`.
#[Object]
impl RecordActivityPayload {
    /// The event: the new one, or the original when its `externalId` was recorded before.
    async fn event(&self) -> ActivityEvent {
        self.event.clone().into()
    }

    /// False when the event was recorded before (same `externalId`) and nothing changed.
    async fn created(&self) -> bool {
        self.created
    }

    /// The customer, with order totals that include this event.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let mut conn = context::conn(ctx).await?;
        let row = customers::find(&mut conn, context::store(ctx)?, CustomerId(self.event.customer_id)).await.map_err(AppError::from)?;
        Ok(row.map(Customer::new))
    }
}

/// One event's outcome in `recordActivities`.
#[derive(SimpleObject)]
pub struct RecordedActivity {
    /// The event: the new one, or the original when its `externalId` was recorded before.
    pub event: ActivityEvent,
    /// False when the event was recorded before and nothing changed.
    pub created: bool,
}

/// The result of `recordActivities`, in the order of the input.
#[derive(SimpleObject)]
pub struct RecordActivitiesPayload {
    /// Each event's outcome, in input order.
    pub results: Vec<RecordedActivity>,
    /// How many events were new.
    pub created_count: i32,
}

fn parse(path: &str, input: &ActivityInput, now: chrono::DateTime<Utc>) -> Result<NewActivity, AppError> {
    NewActivity::parse(&RawActivity::from(input), now).map_err(|e| AppError::from(e.under(path)))
}

#[Object]
impl ActivityMutation {
    /// Records an event on a customer's timeline. An ORDER adds to the customer's totals in the
    /// same transaction. With an `externalId` seen before, returns the original event unchanged.
    async fn record_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the event belongs to.")] customer_id: ID,
        #[graphql(desc = "The event.")] input: ActivityInput,
    ) -> Result<RecordActivityPayload> {
        let customer = self::customer_id("customerId", &customer_id)?;
        let event = parse("input", &input, Utc::now())?;
        let recording = Recording { customer, event: &event, customer_path: "customerId".into(), event_path: "input".into() };
        let mut conn = context::conn(ctx).await?;
        let mut results = activity::record(&mut conn, context::store(ctx)?, std::slice::from_ref(&recording)).await?;
        let (event, created) = results.pop().ok_or_else(|| AppError::Internal(anyhow::anyhow!("no result for one event")))?;
        Ok(RecordActivityPayload { event: Arc::new(event), created })
    }

    /// Records up to 1,000 events (for importers) in one transaction: all of them or, when any
    /// is invalid or names an unknown customer, none.
    async fn record_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The events, each with its customer (at most 1,000).")] events: Vec<CustomerActivityInput>,
    ) -> Result<RecordActivitiesPayload> {
        if events.len() > MAX_BATCH {
            return Err(AppError::bad_input("events", format!("at most {MAX_BATCH} events per call")).into());
        }
        let now = Utc::now();
        let parsed = events
            .iter()
            .enumerate()
            .map(|(i, e)| Ok((customer_id(&format!("events.{i}.customerId"), &e.customer_id)?, parse(&format!("events.{i}.event"), &e.event, now)?)))
            .collect::<Result<Vec<_>, AppError>>()?;
        let recordings: Vec<Recording<'_>> = parsed
            .iter()
            .enumerate()
            .map(|(i, (customer, event))| Recording {
                customer: *customer,
                event,
                customer_path: format!("events.{i}.customerId"),
                event_path: format!("events.{i}.event"),
            })
            .collect();
        let mut conn = context::conn(ctx).await?;
        let results = activity::record(&mut conn, context::store(ctx)?, &recordings).await?;
        let created_count = results.iter().filter(|(_, created)| *created).count() as i32;
        Ok(RecordActivitiesPayload {
            results: results.into_iter().map(|(row, created)| RecordedActivity { event: Arc::new(row).into(), created }).collect(),
            created_count,
        })
    }
}
