//! `Customer.activity`: a customer's timeline, newest first, in keyset pages (a cursor is the
//! last event's time and id, so events arriving between pages never shift a page).

use super::types::{ActivityEvent, ActivityType};
use crate::db::activity::{EventRow, TimelineQuery};
use crate::domain::activity::ActivityKind;
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use crate::graphql::leaf::Leaf;
use crate::graphql::loaders::{LoadError, Loaders};
use crate::graphql::pagination::{KeysetPage, PageInfo, cursor_instant, decode_cursor, edge_nested, encode_cursor, page_size};
use crate::graphql::prefetch::PageRows;
use crate::graphql::scalars::Timestamp;
use crate::leaf_object;
use async_graphql::{Context, Value};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A position in a time-ordered list: microseconds since the epoch and the row id.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeCursor {
    pub t: i64,
    pub id: uuid::Uuid,
}

impl TimeCursor {
    /// Reads the cursor argument `arg`.
    pub fn parse(arg: &str, cursor: Option<&str>) -> Result<Option<(DateTime<chrono::Utc>, uuid::Uuid)>, AppError> {
        let Some(cursor) = cursor else { return Ok(None) };
        let c: TimeCursor = decode_cursor(arg, cursor)?;
        let t = cursor_instant(c.t).ok_or_else(|| AppError::bad_input(arg, "is not a cursor returned by this list"))?;
        Ok(Some((t, c.id)))
    }

    /// The cursor pointing just after a row at `t`, `id`.
    pub fn encode(t: DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
        encode_cursor(&TimeCursor { t: t.timestamp_micros(), id })
    }
}

/// The cursor pointing just after `event`.
fn cursor(event: &Leaf<ActivityEvent>) -> String {
    let row = event.0.row();
    TimeCursor::encode(row.occurred_at, row.id)
}

/// One event in a timeline, with the cursor that points just after it.
pub struct ActivityEdge(Leaf<ActivityEvent>);

leaf_object! {
    /// One event in a timeline, with the cursor that points just after it.
    ActivityEdge(this) {
        /// Pass as `cursor` to continue after this event.
        cursor "cursor": String = cursor(&this.0),
        /// The event.
        async fn node(&self) -> &Leaf<ActivityEvent> {
            &self.0
        }
    }
    nested: ActivityEdge::nested;
}

impl ActivityEdge {
    fn nested(&self, ctx: &Context<'_>) -> Option<Value> {
        edge_nested(ctx, &self.0.0)
    }
}

/// A page of a customer's timeline, newest first.
pub struct ActivityConnection(KeysetPage<Leaf<ActivityEvent>>);

leaf_object! {
    /// A page of a customer's timeline, newest first.
    ActivityConnection(this) {
        /// The events on this page, each with its cursor.
        async fn edges(&self) -> Vec<ActivityEdge> {
            self.edge_list()
        }

        /// The events on this page.
        async fn nodes(&self) -> &[Leaf<ActivityEvent>] {
            &self.0.rows
        }

        /// Where this page sits in the timeline.
        async fn page_info(&self) -> PageInfo {
            self.0.page_info(cursor)
        }
    }
    nested: ActivityConnection::nested;
}

impl ActivityConnection {
    /// A page of `rows`, fetched with one more than `first`.
    pub fn new(rows: Vec<Arc<EventRow>>, first: i64, has_previous_page: bool) -> Self {
        let nodes = rows.into_iter().map(|row| Leaf(ActivityEvent::from(row))).collect();
        Self(KeysetPage::new(nodes, first, has_previous_page))
    }

    fn edge_list(&self) -> Vec<ActivityEdge> {
        self.0.rows.iter().map(|node| ActivityEdge(node.clone())).collect()
    }

    fn nested(&self, ctx: &Context<'_>) -> Option<Value> {
        self.0.nested(ctx, |node| ActivityEdge(node.clone()), cursor)
    }
}

/// The arguments of `Customer.activity`.
pub struct TimelineArgs {
    pub types: Option<Vec<ActivityType>>,
    pub after: Option<Timestamp>,
    pub before: Option<Timestamp>,
    pub first: Option<i32>,
    pub cursor: Option<String>,
}

/// What a page of one customer's timeline reads: its query, and how many events it shows.
#[derive(Debug, Clone)]
pub struct TimelinePage {
    pub query: TimelineQuery,
    pub first: i64,
}

impl TimelineArgs {
    /// The arguments of the `activity` field `ctx` resolves; `None` when they do not parse
    /// (the general path reports why).
    pub fn of_field(ctx: &Context<'_>) -> Option<Self> {
        Some(Self {
            types: ctx.param_value("types", None).ok()?.1,
            after: ctx.param_value("after", None).ok()?.1,
            before: ctx.param_value("before", None).ok()?.1,
            first: ctx.param_value("first", None).ok()?.1,
            cursor: ctx.param_value("cursor", None).ok()?.1,
        })
    }

    /// The page these arguments ask for.
    pub fn page(self) -> Result<TimelinePage, AppError> {
        let first = page_size(self.first)?;
        let mut types: Vec<&'static str> = self.types.unwrap_or_default().into_iter().map(|t| ActivityKind::from(t).as_str()).collect();
        types.sort_unstable();
        types.dedup();
        let query = TimelineQuery {
            types,
            after: self.after.map(|t| t.0),
            before: self.before.map(|t| t.0),
            position: TimeCursor::parse("cursor", self.cursor.as_deref())?,
            limit: first + 1,
        };
        Ok(TimelinePage { query, first })
    }
}

impl TimelinePage {
    /// The page from the rows read ahead for `customer`'s page of customers, if they hold it.
    pub fn read_ahead(&self, rows: &PageRows, customer: CustomerId) -> Option<Result<ActivityConnection, LoadError>> {
        let found = rows.timeline(customer, &self.query)?;
        Some(found.map(|rows| ActivityConnection::new(rows, self.first, self.query.position.is_some())))
    }
}

/// Loads one customer's page: from the rows read ahead for its page of customers when they hold
/// it, otherwise through the request's timeline loader (batched across the page of customers
/// being resolved).
pub async fn load(ctx: &Context<'_>, customer: CustomerId, read_ahead: Option<&PageRows>, args: TimelineArgs) -> Result<ActivityConnection, AppError> {
    let page = args.page()?;
    if let Some(connection) = read_ahead.and_then(|rows| page.read_ahead(rows, customer)) {
        return Ok(connection?);
    }
    let has_previous_page = page.query.position.is_some();
    let rows = Loaders::of(ctx)?.timelines.load_one((customer, page.query)).await?.unwrap_or_default();
    Ok(ActivityConnection::new(rows, page.first, has_previous_page))
}
