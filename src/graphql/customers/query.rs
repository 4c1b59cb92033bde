//! Customer queries: by id, by email, and the searchable, sortable list.

use super::connection::CustomerConnection;
use super::inputs::{CustomerSortKey, SortOrder};
use super::types::Customer;
use crate::db::customer_list::CustomerFilter;
use crate::db::customers;
use crate::db::segments::{self, Membership};
use crate::domain::ids::{CustomerId, SegmentId};
use crate::domain::email::Email;
use crate::domain::metadata::MetadataPatch;
use crate::domain::segment::RuleGroup;
use crate::domain::tags;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::metrics::request_rules_context;
use crate::graphql::pagination::page_size;
use crate::graphql::scalars::{Json, Timestamp};
use crate::graphql::segments::inputs::{SegmentMatch, SegmentRuleInput, raw_group};
use async_graphql::{Context, ID, Object, Result};

/// The longest `search` accepted.
const MAX_SEARCH_CHARS: usize = 255;

/// Customer lookups.
#[derive(Default)]
pub struct CustomerQuery;

/// The membership of the segment named by argument `arg`; an unknown id is `NOT_FOUND`.
pub async fn segment_membership(ctx: &Context<'_>, arg: &str, id: &ID) -> Result<Membership, AppError> {
    let segment = SegmentId::parse(id).map_err(|e| AppError::bad_input(arg, e.to_string()))?;
    let row = {
        let mut conn = context::conn(ctx).await?;
        segments::find(&mut conn, context::store(ctx)?, segment).await?.ok_or_else(|| AppError::not_found("segment", segment, arg))?
    };
    // (the connection is given back: the rules context may need one of its own)
    Membership::of(&row, &request_rules_context(ctx).await?)
}

/// Reads a customer id argument.
pub fn customer_id(arg: &str, id: &ID) -> Result<CustomerId, AppError> {
    CustomerId::parse(id).map_err(|e| AppError::bad_input(arg, e.to_string()))
}

#[Object]
impl CustomerQuery {
    /// A customer by id; null when there is none in this store.
    async fn customer(&self, ctx: &Context<'_>, #[graphql(desc = "The customer's id (`cust_...`).")] id: ID) -> Result<Option<Customer>> {
        let id = customer_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        let row = customers::find(&mut conn, context::store(ctx)?, id).await.map_err(AppError::from)?;
        Ok(row.map(Customer::new))
    }

    /// A customer by email address, compared ignoring case; null when there is none.
    async fn customer_by_email(&self, ctx: &Context<'_>, #[graphql(desc = "The email address.")] email: String) -> Result<Option<Customer>> {
        let email = Email::lookup_form("email", &email).map_err(AppError::from)?;
        let mut conn = context::conn(ctx).await?;
        let row = customers::find_by_email(&mut conn, context::store(ctx)?, email).await.map_err(AppError::from)?;
        Ok(row.map(Customer::new))
    }

    /// Customers matching every given filter, in keyset-paginated pages.
    #[expect(clippy::too_many_arguments, reason = "one argument per documented filter")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive substring of first name, last name or email (`john@` finds john@acme.com); \
                          digits also match the phone however it was typed.")]
        search: Option<String>,
        #[graphql(desc = "Only customers carrying every one of these tags.")] tags: Option<Vec<String>>,
        #[graphql(desc = "Only customers carrying at least one of these tags.")] any_tags: Option<Vec<String>>,
        #[graphql(desc = "Only customers created strictly after this time (a date means its midnight UTC).")]
        created_after: Option<Timestamp>,
        #[graphql(desc = "Only customers created strictly before this time.")] created_before: Option<Timestamp>,
        #[graphql(desc = "Only customers whose metadata contains all these key–value pairs, e.g. `{\"source\": \"trade_show\"}`.")]
        metadata: Option<Json>,
        #[graphql(desc = "Only members of this segment (`seg_...`).")] segment_id: Option<ID>,
        #[graphql(desc = "Only customers matching every one of these rules — the dynamic segments' language, any field \
                          (e.g. `{field: \"disposable_email\", operator: \"eq\", value: false}`).")]
        rules: Option<Vec<SegmentRuleInput>>,
        #[graphql(desc = "What to sort by (default CREATED_AT); ties are broken by id.")] sort: Option<CustomerSortKey>,
        #[graphql(desc = "Sort direction (default DESC); customers without a value come last either way.")] order: Option<SortOrder>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor` of the previous page).")] after: Option<String>,
    ) -> Result<CustomerConnection> {
        let first = page_size(first)?;
        if let Some(s) = &search {
            if s.chars().count() > MAX_SEARCH_CHARS {
                return Err(AppError::bad_input("search", format!("must be at most {MAX_SEARCH_CHARS} characters")).into());
            }
            if s.chars().any(char::is_control) {
                return Err(AppError::bad_input("search", "must not contain control characters").into());
            }
        }
        let clean = |arg: &str, list: Option<Vec<String>>| -> Result<Vec<String>, AppError> {
            let list = list.unwrap_or_default();
            Ok(list.iter().enumerate().map(|(i, t)| tags::clean(&format!("{arg}.{i}"), t)).collect::<Result<_, _>>()?)
        };
        let metadata = match metadata {
            Some(m) => Some(MetadataPatch::parse("metadata", &m.0).and_then(|p| p.into_filter("metadata")).map_err(AppError::from)?),
            None => None,
        };
        let segment = match segment_id {
            Some(id) => Some(segment_membership(ctx, "segmentId", &id).await?),
            None => None,
        };
        let rules = match rules {
            Some(rules) => {
                let group = RuleGroup::parse("", &raw_group(SegmentMatch::All, &rules, &[])).map_err(AppError::from)?;
                Some(Membership::Dynamic(group, request_rules_context(ctx).await?))
            }
            None => None,
        };
        let filter = CustomerFilter {
            search,
            tags_all: clean("tags", tags)?,
            tags_any: clean("anyTags", any_tags)?,
            created_after: created_after.map(|t| t.0),
            created_before: created_before.map(|t| t.0),
            metadata,
            segment,
            rules,
        };
        let sort = sort.unwrap_or(CustomerSortKey::CreatedAt).into();
        let order = order.unwrap_or(SortOrder::Desc).into();
        Ok(CustomerConnection::load(ctx, filter, sort, order, after.as_deref(), first).await?)
    }
}
