//! The `Segment` type.

use super::inputs::SegmentType;
use crate::db::customer_list::{CustomerFilter, Direction, SortKey};
use crate::db::customer_list;
use crate::db::segments::{Membership, SegmentRow};
use crate::domain::ids::SegmentId;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::metrics::request_rules_context;
use crate::graphql::customers::connection::CustomerConnection;
use crate::graphql::pagination::page_size;
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{Context, ID, Object, Result};

/// A group of customers: dynamic (rules, always current) or static (listed members).
#[derive(Clone)]
pub struct Segment(pub SegmentRow);

impl Segment {
    async fn filter(&self, ctx: &Context<'_>) -> Result<CustomerFilter, AppError> {
        let rules = request_rules_context(ctx).await?;
        Ok(CustomerFilter { segment: Some(Membership::of(&self.0, &rules)?), ..Default::default() })
    }
}

/// A group of customers: dynamic (rules, always current) or static (listed members).
#[Object]
impl Segment {
    /// The segment's id (`seg_...`).
    async fn id(&self) -> ID {
        ID(SegmentId(self.0.id).to_string())
    }
    /// The name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// DYNAMIC or STATIC.
    #[graphql(name = "type")]
    async fn kind(&self) -> SegmentType {
        if self.0.kind == "DYNAMIC" { SegmentType::Dynamic } else { SegmentType::Static }
    }
    /// A dynamic segment's rules, as stored: `{ match, rules: [{ field, operator, value }], groups }`.
    async fn rules(&self) -> Option<Json> {
        self.0.rules.clone().map(Json)
    }
    /// How many customers belong now (counted on read).
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i64> {
        // the filter first: it may read the store's metrics state on a connection of its own
        let filter = self.filter(ctx).await?;
        let mut conn = context::conn(ctx).await?;
        Ok(customer_list::count(&mut conn, context::store(ctx)?, &filter).await.map_err(AppError::from)?)
    }
    /// The customers who belong now, newest first.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor.")] after: Option<String>,
    ) -> Result<CustomerConnection> {
        let first = page_size(first)?;
        Ok(CustomerConnection::load(ctx, self.filter(ctx).await?, SortKey::CreatedAt, Direction::Desc, after.as_deref(), first).await?)
    }
    /// When the segment was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When it was last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}
