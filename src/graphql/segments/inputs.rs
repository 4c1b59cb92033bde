//! Input objects for segments.

use crate::domain::segment::rules::{RawGroup, RawRule};
use crate::domain::segment::Match;
use crate::graphql::scalars::Json;
use async_graphql::{Enum, ID, InputObject};

/// Whether a segment is computed from rules or lists its members.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentType {
    /// Members are the customers matching the rules, always current.
    Dynamic,
    /// Members are listed explicitly.
    Static,
}

/// How a group combines its rules.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentMatch {
    /// Every rule and subgroup must hold.
    All,
    /// At least one rule or subgroup must hold.
    Any,
}

/// One condition: `{ field, operator, value }`.
#[derive(InputObject, Debug, Clone)]
pub struct SegmentRuleInput {
    /// A field: total_spent, total_orders, average_order_value, last_order_at, first_order_at,
    /// created_at, email, email_domain, first_name, last_name, phone, tags, address.country,
    /// address.state, address.city, address.postal_code, metadata.<key>, churn_risk,
    /// rfm_recency_score, rfm_frequency_score, rfm_monetary_score, rfm_segment, or activity.
    pub field: String,
    /// eq, neq, gt, gte, lt, lte, in, not_in, contains, not_contains, starts_with, ends_with,
    /// before, after, between, exists, not_exists (those that fit the field's kind).
    pub operator: String,
    /// A number (money in the store's currency), text, a date/time or relative time
    /// (`90_days_ago`, `2_weeks_ago`, `6_months_ago`, `today`), a list for in/not_in, a
    /// [from, to] pair for between; absent for exists/not_exists. For `activity`, an object
    /// `{type, campaign_id, title_contains, since, count}` (count with eq/gt/gte/lt/lte).
    pub value: Option<Json>,
}

/// A nested group of rules.
#[derive(InputObject, Debug, Clone)]
pub struct SegmentRuleGroupInput {
    /// How the group's rules combine (default ALL).
    #[graphql(name = "match", default_with = "SegmentMatch::All")]
    pub match_: SegmentMatch,
    /// The group's rules.
    #[graphql(default)]
    pub rules: Vec<SegmentRuleInput>,
    /// Nested groups.
    #[graphql(default)]
    pub groups: Vec<SegmentRuleGroupInput>,
}

/// A new segment.
#[derive(InputObject, Debug, Clone)]
pub struct SegmentCreateInput {
    /// A name (1–255 characters).
    pub name: String,
    /// DYNAMIC (rules) or STATIC (customerIds).
    #[graphql(name = "type")]
    pub kind: SegmentType,
    /// How the rules combine (default ALL).
    #[graphql(name = "match", default_with = "SegmentMatch::All")]
    pub match_: SegmentMatch,
    /// DYNAMIC only: the rules.
    #[graphql(default)]
    pub rules: Vec<SegmentRuleInput>,
    /// DYNAMIC only: nested groups.
    #[graphql(default)]
    pub groups: Vec<SegmentRuleGroupInput>,
    /// STATIC only: the first members.
    #[graphql(default)]
    pub customer_ids: Vec<ID>,
}

/// Changes to a segment.
#[derive(InputObject, Debug, Clone)]
pub struct SegmentUpdateInput {
    /// A new name.
    pub name: Option<String>,
    /// DYNAMIC only: how the new rules combine (default ALL).
    #[graphql(name = "match", default_with = "SegmentMatch::All")]
    pub match_: SegmentMatch,
    /// DYNAMIC only: new rules (replacing the old ones, with `groups`).
    pub rules: Option<Vec<SegmentRuleInput>>,
    /// DYNAMIC only: new nested groups.
    #[graphql(default)]
    pub groups: Vec<SegmentRuleGroupInput>,
}

fn raw_rules(rules: &[SegmentRuleInput]) -> Vec<RawRule> {
    rules.iter().map(|r| RawRule { field: r.field.clone(), operator: r.operator.clone(), value: r.value.as_ref().map(|v| v.0.clone()).filter(|v| !v.is_null()) }).collect()
}

fn matcher(m: SegmentMatch) -> Match {
    match m {
        SegmentMatch::All => Match::All,
        SegmentMatch::Any => Match::Any,
    }
}

/// The raw rule tree of a group input.
pub fn raw_group(match_: SegmentMatch, rules: &[SegmentRuleInput], groups: &[SegmentRuleGroupInput]) -> RawGroup {
    RawGroup { match_: matcher(match_), rules: raw_rules(rules), groups: groups.iter().map(|g| raw_group(g.match_, &g.rules, &g.groups)).collect() }
}
