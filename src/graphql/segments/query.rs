//! Segment lookups.

use super::types::Segment;
use crate::db::segments;
use crate::domain::ids::SegmentId;
use crate::error::AppError;
use crate::graphql::activity::connection::TimeCursor;
use crate::graphql::context;
use crate::graphql::pagination::{PageInfo, keyset_page, page_size};
use async_graphql::{Context, ID, Object, Result, SimpleObject};

/// Segment queries.
#[derive(Default)]
pub struct SegmentQuery;

/// Reads a segment id argument.
pub fn segment_id(arg: &str, id: &ID) -> Result<SegmentId, AppError> {
    SegmentId::parse(id).map_err(|e| AppError::bad_input(arg, e.to_string()))
}

/// A page of segments, oldest first.
#[derive(SimpleObject)]
pub struct SegmentConnection {
    /// The segments on this page.
    pub nodes: Vec<Segment>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
}

#[Object]
impl SegmentQuery {
    /// A segment by id; null when there is none in this store.
    async fn segment(&self, ctx: &Context<'_>, #[graphql(desc = "The segment's id (`seg_...`).")] id: ID) -> Result<Option<Segment>> {
        let id = segment_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        Ok(segments::find(&mut conn, context::store(ctx)?, id).await.map_err(AppError::from)?.map(Segment))
    }

    /// The store's segments, oldest first.
    async fn segments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor`).")] after: Option<String>,
    ) -> Result<SegmentConnection> {
        let first = page_size(first)?;
        let position = TimeCursor::parse("after", after.as_deref())?;
        let mut conn = context::conn(ctx).await?;
        let rows = segments::page(&mut conn, context::store(ctx)?, position, first + 1).await.map_err(AppError::from)?;
        let (rows, page_info) = keyset_page(rows, first, position.is_some(), |r| TimeCursor::encode(r.created_at, r.id));
        Ok(SegmentConnection { nodes: rows.into_iter().map(Segment).collect(), page_info })
    }
}
