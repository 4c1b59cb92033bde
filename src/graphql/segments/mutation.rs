//! Segment mutations.

use super::inputs::{SegmentCreateInput, SegmentType, SegmentUpdateInput, raw_group};
use super::query::segment_id;
use super::types::Segment;
use crate::db::segments;
use crate::domain::ids::CustomerId;
use crate::domain::segment::RuleGroup;
use crate::domain::text::optional_text;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use async_graphql::{Context, ID, Object, Result, SimpleObject};

/// The most customers one call may add or remove.
const MAX_MEMBERS_PER_CALL: usize = 1000;

/// Segment changes.
#[derive(Default)]
pub struct SegmentMutation;

/// The result of `deleteSegment`.
#[derive(SimpleObject)]
pub struct DeleteSegmentPayload {
    /// The id of the segment that was deleted.
    pub deleted_segment_id: ID,
}

fn name(arg: &str, name: &str) -> Result<String, AppError> {
    optional_text(arg, Some(name))?.ok_or_else(|| AppError::bad_input(arg, "is required"))
}

fn customers(arg: &str, ids: &[ID]) -> Result<Vec<CustomerId>, AppError> {
    if ids.len() > MAX_MEMBERS_PER_CALL {
        return Err(AppError::bad_input(arg, format!("at most {MAX_MEMBERS_PER_CALL} customers per call")));
    }
    ids.iter().enumerate().map(|(i, id)| customer_id(&format!("{arg}.{i}"), id)).collect()
}

#[Object]
impl SegmentMutation {
    /// Creates a segment: DYNAMIC with rules, or STATIC with `customerIds`.
    async fn create_segment(&self, ctx: &Context<'_>, #[graphql(desc = "The new segment.")] input: SegmentCreateInput) -> Result<Segment> {
        let name = name("input.name", &input.name)?;
        let (rules, members) = match input.kind {
            SegmentType::Dynamic => {
                if !input.customer_ids.is_empty() {
                    return Err(AppError::bad_input("input.customerIds", "a dynamic segment's members come from its rules").into());
                }
                let group = RuleGroup::parse("input", &raw_group(input.match_, &input.rules, &input.groups)).map_err(AppError::from)?;
                (Some(group), Vec::new())
            }
            SegmentType::Static => {
                if !input.rules.is_empty() || !input.groups.is_empty() {
                    return Err(AppError::bad_input("input.rules", "a static segment has members, not rules").into());
                }
                (None, customers("input.customerIds", &input.customer_ids)?)
            }
        };
        let mut conn = context::conn(ctx).await?;
        Ok(Segment(segments::create(&mut conn, context::store(ctx)?, &name, rules.as_ref(), &members).await?))
    }

    /// Renames a segment and/or replaces a dynamic segment's rules.
    async fn update_segment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The segment's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: SegmentUpdateInput,
    ) -> Result<Segment> {
        let id = segment_id("id", &id)?;
        let name = input.name.as_deref().map(|n| name("input.name", n)).transpose()?;
        let rules = match &input.rules {
            Some(rules) => Some(RuleGroup::parse("input", &raw_group(input.match_, rules, &input.groups)).map_err(AppError::from)?),
            None => None,
        };
        let mut conn = context::conn(ctx).await?;
        Ok(Segment(segments::update(&mut conn, context::store(ctx)?, id, name.as_deref(), rules.as_ref()).await?))
    }

    /// Deletes a segment (its customers are untouched).
    async fn delete_segment(&self, ctx: &Context<'_>, #[graphql(desc = "The segment's id.")] id: ID) -> Result<DeleteSegmentPayload> {
        let segment = segment_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        if !segments::delete(&mut conn, context::store(ctx)?, segment).await.map_err(AppError::from)? {
            return Err(AppError::not_found("segment", segment, "id").into());
        }
        Ok(DeleteSegmentPayload { deleted_segment_id: id })
    }

    /// Adds customers to a static segment (all or none: unknown ids are named in the error).
    async fn add_segment_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The static segment's id.")] id: ID,
        #[graphql(desc = "The customers to add (at most 1,000).")] customer_ids: Vec<ID>,
    ) -> Result<Segment> {
        let id = segment_id("id", &id)?;
        let members = customers("customerIds", &customer_ids)?;
        let mut conn = context::conn(ctx).await?;
        Ok(Segment(segments::change_members(&mut conn, context::store(ctx)?, id, &members, true).await?))
    }

    /// Removes customers from a static segment (all or none: unknown ids are named in the error).
    async fn remove_segment_members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The static segment's id.")] id: ID,
        #[graphql(desc = "The customers to remove (at most 1,000).")] customer_ids: Vec<ID>,
    ) -> Result<Segment> {
        let id = segment_id("id", &id)?;
        let members = customers("customerIds", &customer_ids)?;
        let mut conn = context::conn(ctx).await?;
        Ok(Segment(segments::change_members(&mut conn, context::store(ctx)?, id, &members, false).await?))
    }
}
