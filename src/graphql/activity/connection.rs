//! `Customer.activity`: a customer's timeline, newest first, in keyset pages (a cursor is the
//! last event's time and id, so events arriving between pages never shift a page).

use super::types::{ActivityEvent, ActivityType};
use crate::db::activity::{EventRow, TimelineQuery};
use crate::domain::activity::ActivityKind;
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use crate::graphql::leaf::Leaf;
use crate::graphql::loaders::Loaders;
use crate::graphql::pagination::{PageInfo, decode_cursor, encode_cursor, keyset_page, page_size};
use crate::graphql::scalars::Timestamp;
use async_graphql::{Context, Object, SimpleObject};
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
        let t = DateTime::from_timestamp_micros(c.t).ok_or_else(|| AppError::bad_input(arg, "is not a cursor returned by this list"))?;
        Ok(Some((t, c.id)))
    }

    /// The cursor pointing just after a row at `t`, `id`.
    pub fn encode(t: DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
        encode_cursor(&TimeCursor { t: t.timestamp_micros(), id })
    }
}

/// One event in a timeline, with the cursor that points just after it.
#[derive(SimpleObject)]
pub struct ActivityEdge {
    /// Pass as `cursor` to continue after this event.
    pub cursor: String,
    /// The event.
    pub node: Leaf<ActivityEvent>,
}

/// A page of a customer's timeline, newest first.
pub struct ActivityConnection {
    nodes: Vec<Leaf<ActivityEvent>>,
    cursors: Vec<String>,
    page_info: PageInfo,
}

/// A page of a customer's timeline, newest first.
#[Object]
impl ActivityConnection {
    /// The events on this page, each with its cursor.
    async fn edges(&self) -> Vec<ActivityEdge> {
        self.nodes.iter().zip(&self.cursors).map(|(node, cursor)| ActivityEdge { cursor: cursor.clone(), node: node.clone() }).collect()
    }

    /// The events on this page.
    async fn nodes(&self) -> &[Leaf<ActivityEvent>] {
        &self.nodes
    }

    /// Where this page sits in the timeline.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
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

/// Loads one customer's page through the request's timeline loader (batched across the page of
/// customers being resolved).
pub async fn load(ctx: &Context<'_>, customer: CustomerId, args: TimelineArgs) -> Result<ActivityConnection, AppError> {
    let first = page_size(args.first)?;
    let mut types: Vec<&'static str> = args.types.unwrap_or_default().into_iter().map(|t| ActivityKind::from(t).as_str()).collect();
    types.sort_unstable();
    types.dedup();
    let query = TimelineQuery {
        types,
        after: args.after.map(|t| t.0),
        before: args.before.map(|t| t.0),
        position: TimeCursor::parse("cursor", args.cursor.as_deref())?,
        limit: first + 1,
    };
    let has_previous_page = query.position.is_some();
    let loaders = Loaders::of(ctx)?;
    let rows = loaders.timelines.load_one((customer, query)).await.map_err(AppError::from)?.unwrap_or_default();
    Ok(page(rows, first, has_previous_page))
}

fn page(rows: Vec<Arc<EventRow>>, first: i64, has_previous_page: bool) -> ActivityConnection {
    let (rows, cursors, page_info) = keyset_page(rows, first, has_previous_page, |r| TimeCursor::encode(r.occurred_at, r.id));
    ActivityConnection { nodes: rows.into_iter().map(|row| Leaf(ActivityEvent::from(row))).collect(), cursors, page_info }
}
