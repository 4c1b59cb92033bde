//! Rules and groups: parsing caller input into a validated tree (errors name the rule), and the
//! canonical JSON a segment stores (relative times stay relative: they resolve when evaluated).

use super::fields::{Field, Kind};
use crate::domain::activity::ActivityKind;
use super::time::TimeValue;
use crate::domain::InputError;
use crate::domain::money::Money;
use serde_json::{Value, json};

/// The most rules in one segment (all groups together).
pub const MAX_RULES: usize = 100;
/// The deepest nesting of groups.
pub const MAX_DEPTH: usize = 4;
/// The most values an `in` / `not_in` list may hold.
pub const MAX_LIST: usize = 100;

/// How a group combines its rules and subgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    All,
    Any,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    Before,
    After,
    Between,
    Exists,
    NotExists,
}

impl Operator {
    /// Every operator.
    pub const ALL: [Self; 17] = [
        Self::Eq, Self::Neq, Self::Gt, Self::Gte, Self::Lt, Self::Lte, Self::In, Self::NotIn, Self::Contains, Self::NotContains,
        Self::StartsWith, Self::EndsWith, Self::Before, Self::After, Self::Between, Self::Exists, Self::NotExists,
    ];

    /// The operator's name (`gte`, `not_in`...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Neq => "neq",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::In => "in",
            Self::NotIn => "not_in",
            Self::Contains => "contains",
            Self::NotContains => "not_contains",
            Self::StartsWith => "starts_with",
            Self::EndsWith => "ends_with",
            Self::Before => "before",
            Self::After => "after",
            Self::Between => "between",
            Self::Exists => "exists",
            Self::NotExists => "not_exists",
        }
    }

    /// Reads an operator name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name().eq_ignore_ascii_case(name))
    }

    /// Whether a missing value satisfies the operator (see the module documentation).
    pub fn holds_for_missing(self) -> bool {
        matches!(self, Self::Neq | Self::NotIn | Self::NotContains | Self::NotExists)
    }
}

/// A rule's value, checked against its field's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleValue {
    /// For `exists` / `not_exists`.
    None,
    /// Money in minor units, or a count.
    Number(i64),
    /// A probability.
    Ratio(f64),
    RatioRange(f64, f64),
    Ratios(Vec<f64>),
    Numbers(Vec<i64>),
    NumberRange(i64, i64),
    Time(TimeValue),
    TimeRange(TimeValue, TimeValue),
    /// Lower-cased for text fields; as given (trimmed) for tags.
    Text(String),
    Texts(Vec<String>),
    /// Which events count, and (for comparisons) how many.
    Activity(ActivityFilter, Option<i64>),
    /// True or false.
    Flag(bool),
}

/// The events an activity rule counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityFilter {
    pub kind: Option<ActivityKind>,
    pub campaign_id: Option<String>,
    /// Lower-cased; matched as a substring of the lower-cased title.
    pub title_contains: Option<String>,
    /// Only events that occurred after this time.
    pub since: Option<TimeValue>,
}

fn activity_value(op: Operator, value: Option<&Value>) -> Result<RuleValue, String> {
    let object = value.and_then(Value::as_object).ok_or("must be an object like {\"type\": \"EMAIL\", \"campaign_id\": \"camp_1\", \"since\": \"30_days_ago\"}")?;
    let text = |key: &str| -> Result<Option<String>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= 255 => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(format!("`{key}` must be non-empty text")),
        }
    };
    if let Some(unknown) = object.keys().find(|k| !["type", "campaign_id", "title_contains", "since", "count"].contains(&k.as_str())) {
        return Err(format!("unknown key `{unknown}` (use type, campaign_id, title_contains, since, count)"));
    }
    let kind = match text("type")? {
        Some(t) => Some(ActivityKind::from_stored(&t.to_ascii_uppercase()).ok_or(format!("unknown activity type `{t}`"))?),
        None => None,
    };
    let since = match text("since")? {
        Some(t) => Some(TimeValue::parse(&t).ok_or("`since` must be a date, a time, `today` or like `30_days_ago`")?),
        None => None,
    };
    let count = object.get("count").filter(|c| !c.is_null());
    let count = match (op, count) {
        (Operator::Exists | Operator::NotExists, None) => None,
        (Operator::Exists | Operator::NotExists, Some(_)) => return Err("`count` goes with eq, gt, gte, lt or lte".into()),
        (_, Some(c)) => Some(c.as_i64().filter(|n| *n >= 0).ok_or("`count` must be a whole number")?),
        (_, None) => return Err("needs a `count` to compare with".into()),
    };
    let filter = ActivityFilter { kind, campaign_id: text("campaign_id")?, title_contains: text("title_contains")?.map(|t| t.to_lowercase()), since };
    Ok(RuleValue::Activity(filter, count))
}

/// One validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub field: Field,
    pub operator: Operator,
    pub value: RuleValue,
    /// The value as given, for the stored JSON.
    raw_value: Value,
}

/// A validated group.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub match_: Match,
    pub rules: Vec<Rule>,
    pub groups: Vec<RuleGroup>,
}

/// A rule as the caller sent it.
#[derive(Debug, Clone)]
pub struct RawRule {
    pub field: String,
    pub operator: String,
    pub value: Option<Value>,
}

/// A group as the caller sent it.
#[derive(Debug, Clone)]
pub struct RawGroup {
    pub match_: Match,
    pub rules: Vec<RawRule>,
    pub groups: Vec<RawGroup>,
}

impl RuleGroup {
    /// Validates a group given at `path` (e.g. `input`); errors point at `path.rules.N...`.
    pub fn parse(path: &str, raw: &RawGroup) -> Result<Self, InputError> {
        let mut count = 0;
        Self::parse_at(path, raw, 1, &mut count)
    }

    fn parse_at(path: &str, raw: &RawGroup, depth: usize, count: &mut usize) -> Result<Self, InputError> {
        if depth > MAX_DEPTH {
            return Err(InputError::new(path, format!("groups may nest at most {MAX_DEPTH} deep")));
        }
        *count += raw.rules.len();
        if *count > MAX_RULES {
            return Err(InputError::new(path, format!("a segment may have at most {MAX_RULES} rules")));
        }
        let rules = raw.rules.iter().enumerate().map(|(i, r)| Rule::parse(&format!("{path}.rules.{i}"), r)).collect::<Result<_, _>>()?;
        let groups = raw.groups.iter().enumerate().map(|(i, g)| Self::parse_at(&format!("{path}.groups.{i}"), g, depth + 1, count)).collect::<Result<_, _>>()?;
        Ok(Self { match_: raw.match_, rules, groups })
    }

    /// The canonical JSON stored with a segment.
    pub fn to_json(&self) -> Value {
        json!({
            "match": match self.match_ { Match::All => "ALL", Match::Any => "ANY" },
            "rules": self.rules.iter().map(|r| json!({ "field": r.field.name(), "operator": r.operator.name(), "value": r.raw_value })).collect::<Vec<_>>(),
            "groups": self.groups.iter().map(RuleGroup::to_json).collect::<Vec<_>>(),
        })
    }

    /// Reads stored JSON back (it was validated when stored).
    pub fn from_json(value: &Value) -> Result<Self, InputError> {
        fn raw(value: &Value) -> RawGroup {
            let list = |key: &str| value.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            RawGroup {
                match_: if value.get("match").and_then(Value::as_str) == Some("ANY") { Match::Any } else { Match::All },
                rules: list("rules")
                    .iter()
                    .map(|r| RawRule {
                        field: r.get("field").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        operator: r.get("operator").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        value: r.get("value").cloned().filter(|v| !v.is_null()),
                    })
                    .collect(),
                groups: list("groups").iter().map(raw).collect(),
            }
        }
        Self::parse("rules", &raw(value))
    }
}

impl Rule {
    fn parse(path: &str, raw: &RawRule) -> Result<Self, InputError> {
        let name = format!("rule {} ({} {})", path.rsplit('.').next().unwrap_or("?"), raw.field, raw.operator);
        let err = |at: &str, message: String| InputError::new(&format!("{path}{at}"), format!("{name}: {message}"));
        if raw.field.contains('\0') {
            return Err(err(".field", crate::domain::nul::MESSAGE.into()));
        }
        let field = Field::parse(&raw.field).ok_or_else(|| err(".field", format!("unknown field `{}`", raw.field)))?;
        let operator = Operator::parse(&raw.operator).ok_or_else(|| err(".operator", format!("unknown operator `{}`", raw.operator)))?;
        if !field.kind().allows(operator) {
            return Err(err(".operator", format!("`{}` does not apply to {}", operator.name(), field.name())));
        }
        if let Some(below) = raw.value.as_ref().and_then(crate::domain::nul::find_in_json) {
            let at: String = below.iter().map(|p| format!(".{p}")).collect();
            return Err(err(&format!(".value{at}"), crate::domain::nul::MESSAGE.into()));
        }
        let value = parse_value(field.kind(), operator, raw.value.as_ref()).map_err(|m| err(".value", m))?;
        Ok(Self { field, operator, value, raw_value: raw.value.clone().unwrap_or(Value::Null) })
    }
}

fn parse_value(kind: Kind, op: Operator, value: Option<&Value>) -> Result<RuleValue, String> {
    use Operator::*;
    if kind == Kind::Activity {
        return activity_value(op, value);
    }
    if matches!(op, Exists | NotExists) {
        return match value {
            None => Ok(RuleValue::None),
            Some(_) => Err("takes no value".into()),
        };
    }
    let value = value.ok_or("needs a value")?;
    let list = |v: &Value| -> Result<Vec<Value>, String> {
        let items = v.as_array().ok_or("must be a list")?;
        if items.is_empty() || items.len() > MAX_LIST {
            return Err(format!("must be a list of 1 to {MAX_LIST} values"));
        }
        Ok(items.clone())
    };
    let number = |v: &Value| -> Result<i64, String> {
        match kind {
            Kind::Money => v.as_f64().and_then(Money::from_major).map(|m| m.0).ok_or_else(|| "must be an amount".to_owned()),
            _ => v.as_i64().filter(|n| *n >= 0).ok_or_else(|| "must be a whole number".to_owned()),
        }
    };
    let time = |v: &Value| -> Result<TimeValue, String> {
        v.as_str().and_then(TimeValue::parse).ok_or_else(|| "must be a date, a time, `today` or like `90_days_ago`".to_owned())
    };
    let text = |v: &Value| -> Result<String, String> {
        let t = v.as_str().map(str::trim).filter(|t| !t.is_empty()).ok_or("must be non-empty text")?;
        if t.chars().count() > 255 {
            return Err("must be at most 255 characters".into());
        }
        Ok(if kind == Kind::Tags { t.to_owned() } else { t.to_lowercase() })
    };
    let pair = |v: &Value| -> Result<(Value, Value), String> {
        match v.as_array().map(Vec::as_slice) {
            Some([a, b]) => Ok((a.clone(), b.clone())),
            _ => Err("must be a list of two values [from, to]".into()),
        }
    };
    let ratio = |v: &Value| -> Result<f64, String> { v.as_f64().filter(|r| (0.0..=1.0).contains(r)).ok_or_else(|| "must be a number from 0 to 1".to_owned()) };
    Ok(match (kind, op) {
        (Kind::Ratio, In | NotIn) => RuleValue::Ratios(list(value)?.iter().map(ratio).collect::<Result<_, _>>()?),
        (Kind::Ratio, Between) => {
            let (a, b) = pair(value)?;
            let (a, b) = (ratio(&a)?, ratio(&b)?);
            if a > b {
                return Err("the range's first value must not exceed its second".into());
            }
            RuleValue::RatioRange(a, b)
        }
        (Kind::Ratio, _) => RuleValue::Ratio(ratio(value)?),
        (Kind::Money | Kind::Count, In | NotIn) => RuleValue::Numbers(list(value)?.iter().map(number).collect::<Result<_, _>>()?),
        (Kind::Money | Kind::Count, Between) => {
            let (a, b) = pair(value)?;
            let (a, b) = (number(&a)?, number(&b)?);
            if a > b {
                return Err("the range's first value must not exceed its second".into());
            }
            RuleValue::NumberRange(a, b)
        }
        (Kind::Money | Kind::Count, _) => RuleValue::Number(number(value)?),
        (Kind::Time, Between) => {
            let (a, b) = pair(value)?;
            RuleValue::TimeRange(time(&a)?, time(&b)?)
        }
        (Kind::Time, _) => RuleValue::Time(time(value)?),
        (Kind::Text | Kind::Tags, In | NotIn) => RuleValue::Texts(list(value)?.iter().map(text).collect::<Result<_, _>>()?),
        (Kind::Text | Kind::Tags, _) => RuleValue::Text(text(value)?),
        (Kind::Flag, _) => RuleValue::Flag(value.as_bool().ok_or("must be true or false")?),
        (Kind::Activity, _) => unreachable!("handled above"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(field: &str, operator: &str, value: Value) -> RawRule {
        RawRule { field: field.into(), operator: operator.into(), value: (!value.is_null()).then_some(value) }
    }

    fn group(rules: Vec<RawRule>) -> RawGroup {
        RawGroup { match_: Match::All, rules, groups: vec![] }
    }

    #[test]
    fn parses_the_seed_example_and_round_trips_its_json() {
        let raw = group(vec![rule("total_spent", "gte", json!(500)), rule("last_order_at", "before", json!("90_days_ago"))]);
        let parsed = RuleGroup::parse("input", &raw).unwrap();
        assert_eq!(parsed.rules[0].value, RuleValue::Number(50_000));
        assert_eq!(parsed.rules[1].value, RuleValue::Time(TimeValue::DaysAgo(90)));
        assert_eq!(RuleGroup::from_json(&parsed.to_json()).unwrap(), parsed);
    }

    #[test]
    fn errors_name_the_rule_and_what_is_wrong() {
        let cases = [
            (rule("shoe_size", "eq", json!(42)), "input.rules.0.field", "unknown field"),
            (rule("total_spent", "sideways", json!(1)), "input.rules.0.operator", "unknown operator"),
            (rule("total_spent", "starts_with", json!("1")), "input.rules.0.operator", "does not apply"),
            (rule("total_spent", "gte", json!("lots")), "input.rules.0.value", "amount"),
            (rule("total_orders", "gt", json!(1.5)), "input.rules.0.value", "whole number"),
            (rule("last_order_at", "before", json!("last week")), "input.rules.0.value", "90_days_ago"),
            (rule("email", "in", json!([])), "input.rules.0.value", "list of 1"),
            (rule("total_spent", "between", json!([5, 1])), "input.rules.0.value", "must not exceed"),
            (rule("tags", "exists", json!("x")), "input.rules.0.value", "takes no value"),
            (rule("email", "eq", Value::Null), "input.rules.0.value", "needs a value"),
        ];
        for (r, path, fragment) in cases {
            let err = RuleGroup::parse("input", &group(vec![r])).unwrap_err();
            assert_eq!(err.path.join("."), path);
            assert!(err.message.contains(fragment) && err.message.starts_with("rule 0 ("), "{}", err.message);
        }
    }

    #[test]
    fn limits_depth_and_count() {
        let mut deep = group(vec![]);
        for _ in 0..MAX_DEPTH {
            deep = RawGroup { match_: Match::Any, rules: vec![], groups: vec![deep] };
        }
        assert!(RuleGroup::parse("input", &deep).is_err());
        let many = group((0..=MAX_RULES).map(|_| rule("tags", "exists", Value::Null)).collect());
        assert!(RuleGroup::parse("input", &many).is_err());
    }
}
