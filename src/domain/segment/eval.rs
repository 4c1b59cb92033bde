//! Evaluating rules in memory: the plain reference the SQL compilation is tested against.

use super::fields::Field;
use super::MetricsContext;
use super::rules::{ActivityFilter, Match, Operator, Rule, RuleGroup, RuleValue};
use crate::domain::activity::ActivityKind;
use crate::domain::btyd::{self, FallbackOptions};
use crate::domain::metrics::OrderStats;
use crate::domain::rfm;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What rules can see of a customer.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub total_spent: i64,
    pub total_orders: i32,
    /// Distinct UTC days with an order, and the first day's spend (minor units).
    pub order_days: i32,
    pub first_day_spent: i64,
    pub last_order_at: Option<DateTime<Utc>>,
    pub first_order_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub metadata: BTreeMap<String, String>,
    /// Of the default address.
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    /// The customer's events.
    pub events: Vec<EventFacts>,
    /// The customer's enrichment, when it has been written.
    pub enrichment: Option<EnrichmentFacts>,
}

/// What rules see of a customer's enrichment (text as stored; compared without case).
#[derive(Debug, Clone, Default)]
pub struct EnrichmentFacts {
    pub phone_country: Option<String>,
    pub phone_line_type: Option<String>,
    pub phone_valid: Option<bool>,
    pub free_email_provider: bool,
    pub disposable_email: bool,
    pub role_account: bool,
    pub company_domain: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    pub most_active_hour: Option<i32>,
    /// ISO 8601: 1 = Monday … 7 = Sunday.
    pub most_active_weekday: Option<i32>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// Weekday names as rules compare them, Monday first.
pub const WEEKDAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/// What activity rules see of an event.
#[derive(Debug, Clone)]
pub struct EventFacts {
    pub kind: ActivityKind,
    pub campaign_id: Option<String>,
    pub title: String,
    pub occurred_at: DateTime<Utc>,
}

fn matching_events(filter: &ActivityFilter, facts: &Facts, now: DateTime<Utc>) -> i64 {
    let since = filter.since.map(|t| t.resolve(now));
    facts
        .events
        .iter()
        .filter(|e| filter.kind.is_none_or(|k| k == e.kind))
        .filter(|e| filter.campaign_id.as_ref().is_none_or(|c| e.campaign_id.as_ref() == Some(c)))
        .filter(|e| filter.title_contains.as_ref().is_none_or(|t| e.title.to_lowercase().contains(t.as_str())))
        .filter(|e| since.is_none_or(|s| e.occurred_at > s))
        .count() as i64
}

enum Seen {
    Flag(bool),
    Number(i64),
    Ratio(f64),
    Time(DateTime<Utc>),
    Text(String),
    Tags(Vec<String>),
}

fn seen(field: &Field, facts: &Facts, now: DateTime<Utc>, ctx: &MetricsContext) -> Option<Seen> {
    let stats = || OrderStats {
        total_orders: facts.total_orders,
        total_spent: facts.total_spent,
        first_order_at: facts.first_order_at,
        last_order_at: facts.last_order_at,
        order_days: facts.order_days,
        first_day_spent: facts.first_day_spent,
    };
    let scores = || match (&ctx.breakpoints, facts.last_order_at) {
        (Some(b), Some(last)) if facts.total_orders > 0 => Some(rfm::score(b, last, facts.total_orders, facts.total_spent)),
        _ => None,
    };
    let text = |v: &Option<String>| v.as_ref().map(|t| Seen::Text(t.to_lowercase()));
    match field {
        Field::TotalSpent => Some(Seen::Number(facts.total_spent)),
        Field::TotalOrders => Some(Seen::Number(i64::from(facts.total_orders))),
        // Rounded to the cent like the SQL's integer division of minor units.
        Field::AverageOrderValue => (facts.total_orders > 0).then(|| Seen::Number(facts.total_spent / i64::from(facts.total_orders))),
        Field::LastOrderAt => facts.last_order_at.map(Seen::Time),
        Field::FirstOrderAt => facts.first_order_at.map(Seen::Time),
        Field::CreatedAt => Some(Seen::Time(facts.created_at)),
        Field::Email => Some(Seen::Text(facts.email.to_lowercase())),
        Field::EmailDomain => facts.email.to_lowercase().split_once('@').map(|(_, d)| Seen::Text(d.to_owned())),
        Field::FirstName => text(&facts.first_name),
        Field::LastName => text(&facts.last_name),
        Field::Phone => text(&facts.phone),
        Field::Tags => Some(Seen::Tags(facts.tags.clone())).filter(|_| !facts.tags.is_empty()),
        Field::Country => text(&facts.country),
        Field::State => text(&facts.state),
        Field::City => text(&facts.city),
        Field::PostalCode => text(&facts.postal_code),
        Field::Metadata(key) => facts.metadata.get(key).map(|v| Seen::Text(v.to_lowercase())),
        Field::ChurnRisk => stats().summary(now.date_naive()).map(|s| {
            let prediction = btyd::predict_or_fallback(ctx.models.as_ref(), &s, &FallbackOptions::default(), btyd::DEFAULT_ANNUAL_DISCOUNT_RATE);
            Seen::Ratio(prediction.churn_risk())
        }),
        Field::RfmRecency => scores().map(|s| Seen::Number(i64::from(s.recency))),
        Field::RfmFrequency => scores().map(|s| Seen::Number(i64::from(s.frequency))),
        Field::RfmMonetary => scores().map(|s| Seen::Number(i64::from(s.monetary))),
        Field::RfmSegment => scores().map(|s| Seen::Text(s.segment.name().to_owned())),
        Field::Activity => None,
        enriched => enrichment_seen(enriched, facts.enrichment.as_ref()?),
    }
}

fn enrichment_seen(field: &Field, e: &EnrichmentFacts) -> Option<Seen> {
    let text = |v: &Option<String>| v.as_ref().map(|t| Seen::Text(t.to_lowercase()));
    match field {
        Field::PhoneCountry => text(&e.phone_country),
        Field::PhoneLineType => text(&e.phone_line_type),
        Field::PhoneValid => e.phone_valid.map(Seen::Flag),
        Field::EmailFreeProvider => Some(Seen::Flag(e.free_email_provider)),
        Field::EmailDisposable => Some(Seen::Flag(e.disposable_email)),
        Field::EmailRoleAccount => Some(Seen::Flag(e.role_account)),
        Field::CompanyDomain => text(&e.company_domain),
        Field::LocationCountry => text(&e.country),
        Field::LocationRegion => text(&e.region),
        Field::TimeZone => text(&e.time_zone),
        Field::PreferredChannel => text(&e.preferred_channel),
        Field::MostActiveHour => e.most_active_hour.map(|h| Seen::Number(i64::from(h))),
        Field::MostActiveWeekday => {
            let day = usize::try_from(e.most_active_weekday?).ok()?.checked_sub(1)?;
            WEEKDAYS.get(day).map(|d| Seen::Text((*d).to_owned()))
        }
        Field::LastSeenAt => e.last_seen_at.map(Seen::Time),
        _ => None,
    }
}

fn compare<T: PartialOrd>(v: &T, x: &T, op: Operator) -> bool {
    match op {
        Operator::Eq => v == x,
        Operator::Neq => v != x,
        Operator::Gt => v > x,
        Operator::Gte => v >= x,
        Operator::Lt => v < x,
        Operator::Lte => v <= x,
        _ => false,
    }
}

/// Whether `facts` satisfy `rule` at `now`.
pub fn rule_holds(rule: &Rule, facts: &Facts, now: DateTime<Utc>, ctx: &MetricsContext) -> bool {
    use Operator::*;
    if let RuleValue::Activity(filter, count) = &rule.value {
        let n = matching_events(filter, facts, now);
        return match (rule.operator, count) {
            (Exists, _) => n > 0,
            (NotExists, _) => n == 0,
            (op, Some(c)) => compare(&n, c, op),
            _ => false,
        };
    }
    let Some(value) = seen(&rule.field, facts, now, ctx) else {
        return rule.operator.holds_for_missing();
    };
    match (value, &rule.value, rule.operator) {
        (_, _, Exists) => true,
        (_, _, NotExists) => false,
        (Seen::Flag(v), RuleValue::Flag(x), op) => compare(&v, x, op),
        (Seen::Number(v), RuleValue::Number(x), op) => compare(&v, x, op),
        (Seen::Number(v), RuleValue::Numbers(xs), op) => xs.contains(&v) == (op == In),
        (Seen::Number(v), RuleValue::NumberRange(a, b), _) => (*a..=*b).contains(&v),
        (Seen::Ratio(v), RuleValue::Ratio(x), op) => compare(&v, x, op),
        (Seen::Ratio(v), RuleValue::Ratios(xs), op) => xs.contains(&v) == (op == In),
        (Seen::Ratio(v), RuleValue::RatioRange(a, b), _) => *a <= v && v <= *b,
        (Seen::Time(v), RuleValue::Time(t), op) => {
            let t = t.resolve(now);
            if op == Before { v < t } else { v > t }
        }
        (Seen::Time(v), RuleValue::TimeRange(a, b), _) => v >= a.resolve(now) && v <= b.resolve(now),
        (Seen::Text(v), RuleValue::Text(x), op) => match op {
            Eq => v == *x,
            Neq => v != *x,
            Contains => v.contains(x.as_str()),
            NotContains => !v.contains(x.as_str()),
            StartsWith => v.starts_with(x.as_str()),
            EndsWith => v.ends_with(x.as_str()),
            _ => false,
        },
        (Seen::Text(v), RuleValue::Texts(xs), op) => xs.contains(&v) == (op == In),
        (Seen::Tags(tags), RuleValue::Text(x), op) => tags.contains(x) == (op == Contains),
        (Seen::Tags(tags), RuleValue::Texts(xs), op) => xs.iter().any(|x| tags.contains(x)) == (op == In),
        _ => false,
    }
}

/// Whether `facts` satisfy the group at `now`.
pub fn holds(group: &RuleGroup, facts: &Facts, now: DateTime<Utc>, ctx: &MetricsContext) -> bool {
    let mut results = group.rules.iter().map(|r| rule_holds(r, facts, now, ctx)).chain(group.groups.iter().map(|g| holds(g, facts, now, ctx)));
    match group.match_ {
        Match::All => results.all(|r| r),
        Match::Any => results.any(|r| r),
    }
}

#[cfg(test)]
mod tests {
    use super::super::rules::{RawGroup, RawRule};
    use super::*;
    use serde_json::{Value, json};

    fn group(match_: Match, rules: &[(&str, &str, Value)]) -> RuleGroup {
        let rules = rules.iter().map(|(f, o, v)| RawRule { field: f.to_string(), operator: o.to_string(), value: (!v.is_null()).then(|| v.clone()) }).collect();
        RuleGroup::parse("input", &RawGroup { match_, rules, groups: vec![] }).unwrap()
    }

    #[test]
    fn missing_values_fail_positive_and_pass_negative_operators() {
        let facts = Facts { email: "ann@acme.com".into(), ..Default::default() };
        let now = Utc::now();
        assert!(!holds(&group(Match::All, &[("address.country", "eq", json!("US"))]), &facts, now, &MetricsContext::default()));
        assert!(holds(&group(Match::All, &[("address.country", "neq", json!("US"))]), &facts, now, &MetricsContext::default()));
        assert!(holds(&group(Match::All, &[("metadata.tier", "not_exists", Value::Null)]), &facts, now, &MetricsContext::default()));
        assert!(!holds(&group(Match::All, &[("last_order_at", "before", json!("today"))]), &facts, now, &MetricsContext::default()));
        assert!(holds(&group(Match::All, &[("email_domain", "eq", json!("ACME.com"))]), &facts, now, &MetricsContext::default()));
    }

    #[test]
    fn any_and_all_combine() {
        let facts = Facts { total_spent: 60_000, tags: vec!["vip".into()], email: "a@b.co".into(), ..Default::default() };
        let rules = [("total_spent", "gte", json!(500)), ("tags", "contains", json!("wholesale"))];
        assert!(!holds(&group(Match::All, &rules), &facts, Utc::now(), &MetricsContext::default()));
        assert!(holds(&group(Match::Any, &rules), &facts, Utc::now(), &MetricsContext::default()));
    }
}
