//! What each part of a query costs, in points (Shopify's model, priced by what the server does):
//! an object costs 1, a scalar or enum 0, a page `2 + first × (what each item selects)`, a
//! mutation 10 plus what it selects. Work that scans many rows — counts, rule filters, segment
//! evaluation — and work that is heavy for other reasons (a model refit, a batch of events) costs
//! what it does on top. Lists without `first` count their largest or usual length.

use async_graphql::Value;

/// An object (a customer, an event, a note, a payload).
pub const OBJECT: u64 = 1;
/// A page of a list, before its items: the keyset lookup itself.
pub const PAGE: u64 = 2;
/// A mutation, before what it selects.
pub const MUTATION: u64 = 10;
/// A subscription, once when it starts.
pub const SUBSCRIPTION: u64 = 10;
/// `__schema`, whatever it selects (the whole schema's description is a fixed amount of work).
pub const INTROSPECTION_SCHEMA: u64 = 100;
/// `__type(name:)`, whatever it selects.
pub const INTROSPECTION_TYPE: u64 = 10;
/// Items assumed for a list without `first` or a known bound.
pub const DEFAULT_LIST: u64 = 25;
/// Page size when `first` is not given (as the resolvers use).
pub const DEFAULT_FIRST: u64 = 25;
/// The largest page the resolvers accept; a larger `first` is refused before it costs more.
pub const MAX_FIRST: u64 = 250;

/// The objects of type `ty` cost this each: edges and page info are parts of their page, not
/// objects of their own.
pub fn object(ty: &str) -> u64 {
    if ty.ends_with("Edge") || ty == "PageInfo" { 0 } else { OBJECT }
}

/// Items assumed for the list field `parent.field` when it takes no `first` (its bound where it
/// has one); `None` for lists that take the page size of the page they belong to.
pub fn list_length(parent: &str, field: &str) -> Option<u64> {
    match (parent, field) {
        // a customer has at most 20 addresses (domain::address::MAX_ADDRESSES)
        ("Customer", "addresses") => Some(crate::domain::address::MAX_ADDRESSES as u64),
        ("Customer", "segments") => Some(DEFAULT_LIST),
        // a store has at most 16 endpoints
        (_, "webhookEndpoints") => Some(crate::domain::webhook::MAX_ENDPOINTS_PER_STORE as u64),
        (_, "nodes" | "edges" | "results") => None,
        _ => Some(DEFAULT_LIST),
    }
}

/// What a field costs besides its objects, given its arguments (`arg` reads one, variables
/// substituted).
pub fn extra(parent: &str, field: &str, arg: &dyn Fn(&str) -> Option<Value>) -> u64 {
    match (parent, field) {
        ("CustomerConnection", "totalCount") => 10,
        ("Segment", "memberCount") => 20,
        ("Segment", "members") => 10,
        ("Customer", "segments") => 5,
        ("QueryRoot", "customers") => {
            let search = matches!(arg("search"), Some(Value::String(s)) if !s.is_empty());
            let metadata = !matches!(arg("metadata"), None | Some(Value::Null));
            let segment = !matches!(arg("segmentId"), None | Some(Value::Null));
            2 * u64::from(search) + u64::from(metadata) + 10 * u64::from(segment) + rules(arg("rules").as_ref())
        }
        ("MutationRoot", "recordActivities") => length(arg("events").as_ref()),
        ("MutationRoot", "addSegmentMembers" | "removeSegmentMembers") => length(arg("customerIds").as_ref()).div_ceil(10),
        ("MutationRoot", "createSegment" | "updateSegment") => {
            let input = arg("input");
            let field = |name: &str| match &input {
                Some(Value::Object(fields)) => fields.get(name).cloned(),
                _ => None,
            };
            length(field("customerIds").as_ref()).div_ceil(10) + rules(field("rules").as_ref()) + groups(field("groups").as_ref())
        }
        ("MutationRoot", "refitMetricsModel") => 90,
        ("MutationRoot", "requestDataRemoval") => 10,
        _ => 0,
    }
}

/// The page size given to the items of `parent.field`'s result: its `first`, or for a batch
/// mutation the number of items sent.
pub fn page(parent: &str, field: &str, arg: &dyn Fn(&str) -> Option<Value>, paged: bool) -> Option<u64> {
    if paged {
        return Some(match arg("first") {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0).min(MAX_FIRST),
            _ => DEFAULT_FIRST,
        });
    }
    match (parent, field) {
        ("MutationRoot", "recordActivities") => Some(length(arg("events").as_ref())),
        _ => None,
    }
}

fn length(value: Option<&Value>) -> u64 {
    match value {
        Some(Value::List(items)) => items.len() as u64,
        _ => 0,
    }
}

/// Rules filter every customer of the store: 2 each, an activity condition (which counts the
/// customer's events) 10.
fn rules(value: Option<&Value>) -> u64 {
    let Some(Value::List(rules)) = value else { return 0 };
    rules
        .iter()
        .map(|rule| match rule {
            Value::Object(fields) if matches!(fields.get("field"), Some(Value::String(f)) if f == "activity") => 10,
            _ => 2,
        })
        .sum()
}

/// Nested rule groups, priced like their rules.
fn groups(value: Option<&Value>) -> u64 {
    let Some(Value::List(list)) = value else { return 0 };
    list.iter()
        .map(|group| match group {
            Value::Object(fields) => rules(fields.get("rules")) + groups(fields.get("groups")),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::value;

    #[test]
    fn filters_cost_what_they_scan() {
        let args = value!({ "search": "john@", "rules": [{ "field": "activity", "operator": "gte" }, { "field": "total_spent" }] });
        let arg = |name: &str| match &args {
            Value::Object(fields) => fields.get(name).cloned(),
            _ => None,
        };
        assert_eq!(extra("QueryRoot", "customers", &arg), 2 + 10 + 2);
        assert_eq!(extra("Customer", "email", &arg), 0);
    }

    #[test]
    fn pages_take_first_within_bounds() {
        let none = |_: &str| None;
        assert_eq!(page("QueryRoot", "customers", &none, true), Some(DEFAULT_FIRST));
        let huge = |_: &str| Some(Value::from(10_000));
        assert_eq!(page("QueryRoot", "customers", &huge, true), Some(MAX_FIRST));
        assert_eq!(page("Customer", "addresses", &none, false), None);
    }
}
