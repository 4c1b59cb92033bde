//! Compiling a rule tree to one SQL condition on `customers`. SQL text comes only from the closed
//! enums of the rule language; every value (including a metadata key) is a bound parameter.
//! Each rule is wrapped in `COALESCE(..., false)` (`true` for the operators that hold for a
//! missing value), so SQL's three-valued logic agrees exactly with the in-memory evaluator.

use super::schema::customers;
use crate::domain::segment::rules::ActivityFilter;
use crate::domain::segment::eval::WEEKDAYS;
use crate::domain::segment::{Field, Match, MetricsContext, Operator, Rule, RuleGroup, RuleValue};
use chrono::{DateTime, Utc};
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Double, Text, Timestamptz};
use diesel::QueryResult;

/// A bound value.
#[derive(Debug, Clone)]
enum Bind {
    Number(i64),
    Float(f64),
    Floats(Vec<f64>),
    Numbers(Vec<i64>),
    Text(String),
    Texts(Vec<String>),
    Time(DateTime<Utc>),
    Flag(bool),
}

#[derive(Debug, Clone)]
enum Part {
    Sql(String),
    Bind(Bind),
}

/// A boolean condition on `customers`, built from SQL pieces and bound values.
#[derive(Debug, Clone, Default)]
pub struct Condition(Vec<Part>);

impl Condition {
    fn sql(mut self, text: &str) -> Self {
        self.0.push(Part::Sql(text.to_owned()));
        self
    }

    fn bind(mut self, value: Bind) -> Self {
        self.0.push(Part::Bind(value));
        self
    }

    fn append(mut self, other: Condition) -> Self {
        self.0.extend(other.0);
        self
    }
}

impl Expression for Condition {
    type SqlType = Bool;
}

impl AppearsOnTable<customers::table> for Condition {}
impl SelectableExpression<customers::table> for Condition {}

impl ValidGrouping<()> for Condition {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for Condition {
    type QueryId = ();
    // The text depends on the rules, so the statement is not cached by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Condition {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in &self.0 {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Bind(Bind::Number(n)) => out.push_bind_param::<BigInt, _>(n)?,
                Part::Bind(Bind::Flag(b)) => out.push_bind_param::<Bool, _>(b)?,
                Part::Bind(Bind::Float(f)) => out.push_bind_param::<Double, _>(f)?,
                Part::Bind(Bind::Floats(fs)) => out.push_bind_param::<Array<Double>, _>(fs)?,
                Part::Bind(Bind::Numbers(ns)) => out.push_bind_param::<Array<BigInt>, _>(ns)?,
                Part::Bind(Bind::Text(t)) => out.push_bind_param::<Text, _>(t)?,
                Part::Bind(Bind::Texts(ts)) => out.push_bind_param::<Array<Text>, _>(ts)?,
                Part::Bind(Bind::Time(t)) => out.push_bind_param::<Timestamptz, _>(t)?,
            }
        }
        Ok(())
    }
}

/// The model inputs of `customers` as of `now`'s UTC day, as columns x, tx, t (days).
fn model_inputs(now: DateTime<Utc>) -> Condition {
    Condition::default()
        .sql(
            "(SELECT (customers.order_days - 1)::float8 AS x, \
             ((customers.last_order_at AT TIME ZONE 'UTC')::date - (customers.first_order_at AT TIME ZONE 'UTC')::date)::float8 AS tx, \
             GREATEST((",
        )
        .bind(Bind::Time(now))
        .sql("::timestamptz AT TIME ZONE 'UTC')::date - (customers.first_order_at AT TIME ZONE 'UTC')::date, 0)::float8 AS t) v")
}

/// 1 − P(alive): the BG/NBD closed form with the store's parameters where `Customer.metrics`
/// uses the models, else the documented fallback — the same formulas as `domain::btyd`.
fn churn_risk(ctx: &MetricsContext, now: DateTime<Utc>) -> Condition {
    let fallback = "(SELECT CASE WHEN GREATEST(v.t - v.tx, 0) <= g THEN 1.0 ELSE exp(-(GREATEST(v.t - v.tx, 0) - g) / g) END \
                    FROM (SELECT GREATEST(CASE WHEN v.x >= 1 THEN v.tx / v.x ELSE 90.0 END, 1.0) AS g) gap)";
    let p_alive = match &ctx.models {
        None => Condition::default().sql(fallback),
        Some(m) => {
            let bg = m.purchases;
            // No finite expected spend for one-time buyers when q <= 1: the fallback applies.
            let fallback_for_one_timers = m.spend.q <= 1.0;
            Condition::default()
                .sql(if fallback_for_one_timers { "CASE WHEN v.x <= 0 THEN " } else { "CASE WHEN v.x <= 0 THEN 1.0 ELSE " })
                .sql(if fallback_for_one_timers { fallback } else { "" })
                .sql(if fallback_for_one_timers { " ELSE " } else { "" })
                .sql("1.0 / (1.0 + exp(ln(")
                .bind(Bind::Float(bg.a))
                .sql(") - ln(")
                .bind(Bind::Float(bg.b))
                .sql(" + v.x - 1) + (")
                .bind(Bind::Float(bg.r))
                .sql(" + v.x) * (ln(")
                .bind(Bind::Float(bg.alpha))
                .sql(" + v.t) - ln(")
                .bind(Bind::Float(bg.alpha))
                .sql(" + v.tx)))) END")
        }
    };
    Condition::default()
        .sql("(CASE WHEN customers.total_orders > 0 AND customers.order_days > 0 THEN (SELECT 1.0 - (")
        .append(p_alive)
        .sql(") FROM ")
        .append(model_inputs(now))
        .sql(") END)")
}

/// An RFM score (1–5, NULL without orders or breakpoints): 1 + breakpoints exceeded.
fn rfm_score(ctx: &MetricsContext, field: &Field) -> Condition {
    let Some(b) = &ctx.breakpoints else {
        return Condition::default().sql("NULL::int8");
    };
    let mut out = Condition::default().sql("(CASE WHEN customers.total_orders > 0 THEN 1");
    for i in 0..4 {
        out = match field {
            Field::RfmRecency => out.sql(" + (customers.last_order_at > ").bind(Bind::Time(b.recency[i])).sql(")::int"),
            Field::RfmFrequency => out.sql(" + (customers.total_orders > ").bind(Bind::Number(i64::from(b.frequency[i]))).sql(")::int"),
            _ => out.sql(" + (customers.total_spent > ").bind(Bind::Number(b.monetary[i])).sql(")::int"),
        };
    }
    out.sql(" END)::int8")
}

/// The R × F segment name (SPEC §7), lower-case like the other text fields.
fn rfm_segment(ctx: &MetricsContext) -> Condition {
    Condition::default()
        .sql(
            "(SELECT CASE WHEN r IS NULL THEN NULL \
               WHEN r <= 2 AND f <= 2 THEN 'hibernating' WHEN r <= 2 AND f <= 4 THEN 'at_risk' WHEN r <= 2 THEN 'cant_lose' \
               WHEN r = 3 AND f <= 2 THEN 'about_to_sleep' WHEN r = 3 AND f = 3 THEN 'need_attention' \
               WHEN r <= 4 AND f >= 4 THEN 'loyal' WHEN r = 4 AND f = 1 THEN 'promising' \
               WHEN f <= 3 AND f >= 2 THEN 'potential_loyalist' WHEN f = 1 THEN 'new' ELSE 'champion' END \
             FROM (SELECT ",
        )
        .append(rfm_score(ctx, &Field::RfmRecency))
        .sql(" AS r, ")
        .append(rfm_score(ctx, &Field::RfmFrequency))
        .sql(" AS f) s)")
}

/// An expression over the customer's enrichment row `x` (NULL when there is none).
fn enriched(expression: &str) -> String {
    format!("(SELECT {expression} FROM customer_enrichment x WHERE x.store_id = customers.store_id AND x.customer_id = customers.id)")
}

/// The SQL expression of a field's value (NULL when the customer has none); text lower-cased.
fn value_of(field: &Field, ctx: &MetricsContext, now: DateTime<Utc>) -> Condition {
    let address = |col: &str| {
        format!(
            "(SELECT lower(a.{col}) FROM customer_addresses a WHERE a.store_id = customers.store_id \
             AND a.customer_id = customers.id AND a.is_default)"
        )
    };
    let text = match field {
        Field::TotalSpent => "customers.total_spent".into(),
        Field::TotalOrders => "customers.total_orders::int8".into(),
        Field::AverageOrderValue => "(customers.total_spent / NULLIF(customers.total_orders, 0))".into(),
        Field::LastOrderAt => "customers.last_order_at".into(),
        Field::FirstOrderAt => "customers.first_order_at".into(),
        Field::CreatedAt => "customers.created_at".into(),
        Field::Email => "customers.email_lower".into(),
        Field::EmailDomain => "split_part(customers.email_lower, '@', 2)".into(),
        Field::FirstName => "lower(customers.first_name)".into(),
        Field::LastName => "lower(customers.last_name)".into(),
        Field::Phone => "lower(customers.phone)".into(),
        Field::Tags => "NULLIF(customers.tags, '{}')".into(),
        Field::Country => address("country"),
        Field::State => address("state"),
        Field::City => address("city"),
        Field::PostalCode => address("postal_code"),
        Field::Metadata(key) => return Condition::default().sql("lower(customers.metadata ->> ").bind(Bind::Text(key.clone())).sql(")"),
        Field::ChurnRisk => return churn_risk(ctx, now),
        Field::RfmRecency | Field::RfmFrequency | Field::RfmMonetary => return rfm_score(ctx, field),
        Field::RfmSegment => return rfm_segment(ctx),
        // Activity rules compile whole in `activity_rule`; never reached.
        Field::Activity => "NULL".into(),
        Field::PhoneCountry => enriched("lower(x.phone_country)"),
        Field::PhoneLineType => enriched("x.phone_line_type"),
        Field::PhoneValid => enriched("x.phone_valid"),
        Field::EmailFreeProvider => enriched("x.free_email_provider"),
        Field::EmailDisposable => enriched("x.disposable_email"),
        Field::EmailRoleAccount => enriched("x.role_account"),
        Field::CompanyDomain => enriched("x.company_domain"),
        Field::LocationCountry => enriched("lower(x.country)"),
        Field::LocationRegion => enriched("lower(x.region)"),
        Field::TimeZone => enriched("lower(x.time_zone)"),
        Field::PreferredChannel => enriched("lower(x.preferred_channel)"),
        Field::MostActiveHour => enriched("x.most_active_hour::int8"),
        Field::MostActiveWeekday => enriched(&format!("(ARRAY[{}])[x.most_active_weekday]", WEEKDAYS.map(|d| format!("'{d}'")).join(", "))),
        Field::LastSeenAt => enriched("x.last_seen_at"),
    };
    Condition::default().sql(&text)
}

fn like_pattern(text: &str, op: Operator) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    match op {
        Operator::StartsWith => format!("{escaped}%"),
        Operator::EndsWith => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    }
}

/// The SQL of an ordering comparison.
fn comparison(op: Operator) -> &'static str {
    match op {
        Operator::Eq => " = ",
        Operator::Neq => " <> ",
        Operator::Gt => " > ",
        Operator::Gte => " >= ",
        Operator::Lt => " < ",
        _ => " <= ",
    }
}

/// Counts (or checks for) the customer's events matching `filter`, using the timeline index.
fn activity_rule(filter: &ActivityFilter, count: Option<i64>, op: Operator, now: DateTime<Utc>) -> Condition {
    let mut events = Condition::default().sql("FROM activity_events e WHERE e.store_id = customers.store_id AND e.customer_id = customers.id");
    if let Some(kind) = filter.kind {
        events = events.sql(" AND e.event_type = ").bind(Bind::Text(kind.as_str().to_owned()));
    }
    if let Some(campaign) = &filter.campaign_id {
        events = events.sql(" AND e.campaign_id = ").bind(Bind::Text(campaign.clone()));
    }
    if let Some(title) = &filter.title_contains {
        events = events.sql(" AND lower(e.title) LIKE ").bind(Bind::Text(like_pattern(title, Operator::Contains)));
    }
    if let Some(since) = filter.since {
        events = events.sql(" AND e.occurred_at > ").bind(Bind::Time(since.resolve(now)));
    }
    match (op, count) {
        (Operator::Exists, _) => Condition::default().sql("EXISTS (SELECT 1 ").append(events).sql(")"),
        (Operator::NotExists, _) => Condition::default().sql("NOT EXISTS (SELECT 1 ").append(events).sql(")"),
        (op, Some(n)) => Condition::default().sql("(SELECT count(*) ").append(events).sql(")").sql(comparison(op)).bind(Bind::Number(n)),
        _ => Condition::default().sql("false"),
    }
}

fn compile_rule(rule: &Rule, now: DateTime<Utc>, ctx: &MetricsContext) -> Condition {
    use Operator::*;
    if let RuleValue::Activity(filter, count) = &rule.value {
        return activity_rule(filter, *count, rule.operator, now);
    }
    let missing = if rule.operator.holds_for_missing() { "true" } else { "false" };
    let value = || value_of(&rule.field, ctx, now);
    let body = match (&rule.value, rule.operator) {
        (_, Exists) => value().sql(" IS NOT NULL"),
        (_, NotExists) => value().sql(" IS NULL"),
        (RuleValue::Text(tag), op) if rule.field == Field::Tags => {
            let not = if op == NotContains { "NOT " } else { "" };
            Condition::default().sql(&format!("{not}(customers.tags @> ARRAY[")).bind(Bind::Text(tag.clone())).sql("]::text[])")
        }
        (RuleValue::Texts(tags), op) if rule.field == Field::Tags => {
            let not = if op == NotIn { "NOT " } else { "" };
            Condition::default().sql(&format!("{not}(customers.tags && ")).bind(Bind::Texts(tags.clone())).sql(")")
        }
        (RuleValue::Number(n), op) => value().sql(comparison(op)).bind(Bind::Number(*n)),
        (RuleValue::Numbers(ns), op) => value().sql(if op == NotIn { " <> ALL(" } else { " = ANY(" }).bind(Bind::Numbers(ns.clone())).sql(")"),
        (RuleValue::NumberRange(a, b), _) => value().sql(" BETWEEN ").bind(Bind::Number(*a)).sql(" AND ").bind(Bind::Number(*b)),
        (RuleValue::Ratio(x), op) => value().sql(comparison(op)).bind(Bind::Float(*x)),
        (RuleValue::Flag(b), op) => value().sql(comparison(op)).bind(Bind::Flag(*b)),
        (RuleValue::Ratios(xs), op) => value().sql(if op == NotIn { " <> ALL(" } else { " = ANY(" }).bind(Bind::Floats(xs.clone())).sql(")"),
        (RuleValue::RatioRange(a, b), _) => value().sql(" BETWEEN ").bind(Bind::Float(*a)).sql(" AND ").bind(Bind::Float(*b)),
        (RuleValue::Time(t), op) => value().sql(if op == Before { " < " } else { " > " }).bind(Bind::Time(t.resolve(now))),
        (RuleValue::TimeRange(a, b), _) => {
            value().sql(" >= ").bind(Bind::Time(a.resolve(now))).sql(" AND ").append(value()).sql(" <= ").bind(Bind::Time(b.resolve(now)))
        }
        (RuleValue::Texts(ts), op) => value().sql(if op == NotIn { " <> ALL(" } else { " = ANY(" }).bind(Bind::Texts(ts.clone())).sql(")"),
        (RuleValue::Text(t), Eq) => value().sql(" = ").bind(Bind::Text(t.clone())),
        (RuleValue::Text(t), Neq) => value().sql(" <> ").bind(Bind::Text(t.clone())),
        (RuleValue::Text(t), op) => {
            let not = if op == NotContains { " NOT" } else { "" };
            value().sql(&format!("{not} LIKE ")).bind(Bind::Text(like_pattern(t, op)))
        }
        // Unreachable for validated rules; matches nothing.
        _ => Condition::default().sql("false"),
    };
    Condition::default().sql("COALESCE((").append(body).sql(&format!("), {missing})"))
}

/// The group's condition at `now` (relative times resolve now; metric rules use `ctx`).
pub fn compile(group: &RuleGroup, now: DateTime<Utc>, ctx: &MetricsContext) -> Condition {
    let (joiner, identity) = match group.match_ {
        Match::All => (" AND ", "true"),
        Match::Any => (" OR ", "false"),
    };
    let parts: Vec<Condition> = group.rules.iter().map(|r| compile_rule(r, now, ctx)).chain(group.groups.iter().map(|g| compile(g, now, ctx))).collect();
    if parts.is_empty() {
        return Condition::default().sql(identity);
    }
    let mut out = Condition::default().sql("(");
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            out = out.sql(joiner);
        }
        out = out.append(part);
    }
    out.sql(")")
}
