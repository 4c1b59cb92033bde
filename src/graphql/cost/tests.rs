//! The cost model against the schema: the README's worked examples, pages, fragments,
//! introspection and the shapes that once slipped through.

use super::*;
use async_graphql::parser::parse_query;
use async_graphql::parser::types::DocumentOperations;

fn model() -> CostModel {
    CostModel::new(&crate::graphql::sdl())
}

fn tally(query: &str, variables: serde_json::Value) -> Tally {
    let document = parse_query(query).expect("parses");
    let operation = match &document.operations {
        DocumentOperations::Single(op) => op.node.clone(),
        DocumentOperations::Multiple(ops) => ops.values().next().expect("an operation").node.clone(),
    };
    model().requested(&document, &operation, &Variables::from_json(variables))
}

fn cost(query: &str) -> u64 {
    tally(query, serde_json::json!({})).cost
}

#[test]
fn a_page_costs_two_plus_first_times_each_item() {
    assert_eq!(cost("{ customers(first: 50) { nodes { id email } } }"), 2 + 50);
    assert_eq!(cost("{ customers { edges { cursor node { id } } pageInfo { hasNextPage } } }"), 2 + 25);
    assert_eq!(cost("{ customer(id: \"cust_x\") { id email tags } }"), 1);
}

#[test]
fn variables_and_their_defaults_set_the_page() {
    let query = "query($n: Int = 10) { customers(first: $n) { nodes { id } } }";
    assert_eq!(tally(query, serde_json::json!({})).cost, 2 + 10);
    assert_eq!(tally(query, serde_json::json!({ "n": 100 })).cost, 2 + 100);
    assert_eq!(tally(query, serde_json::json!({ "n": 100_000 })).cost, 2 + 250);
}

#[test]
fn the_benchmark_page_is_priced_by_what_it_reads() {
    let page = "{ customers(first: 50) { nodes { id email addresses { city } activity(first: 10) { nodes { id title } } notes(first: 10) { nodes { id body } } } } }";
    // 2 + 50 × (customer 1 + 20 addresses + (2 + 10 events) + (2 + 10 notes))
    assert_eq!(cost(page), 2 + 50 * (1 + 20 + 12 + 12));
}

#[test]
fn counts_rules_and_segment_evaluation_cost_what_they_scan() {
    let one = cost("{ customers(first: 1, rules: [{field: \"activity\", operator: \"gte\", value: {count: 3}}]) { totalCount } }");
    assert_eq!(one, 10 + 2 + 10);
    let aliases: String = (0..300).map(|i| format!("a{i}: customers(first: 1, rules: [{{field: \"activity\", operator: \"gte\", value: {{count: 3}}}}]) {{ totalCount }} ")).collect();
    assert_eq!(cost(&format!("{{ {aliases} }}")), 300 * one);
    assert_eq!(cost("{ segments(first: 50) { nodes { memberCount } } }"), 2 + 50 * (1 + 20));
    assert_eq!(cost("{ customers(first: 250) { nodes { segments { memberCount } } } }"), 2 + 250 * (1 + 5 + 25 * (1 + 20)));
}

#[test]
fn mutations_cost_ten_and_batches_their_size() {
    assert_eq!(cost("mutation { createCustomer(input: {email: \"a@b.co\"}) { created customer { id } } }"), 10 + 1 + 1);
    let events: Vec<_> = (0..40).map(|_| serde_json::json!({ "customerId": "cust_x", "event": { "type": "CUSTOM", "title": "t" } })).collect();
    let batch = "mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { results { created } } }";
    assert_eq!(tally(batch, serde_json::json!({ "e": events })).cost, 10 + 40 + 1 + 40);
}

#[test]
fn fragments_are_priced_where_they_are_spread() {
    let query = "query { customers(first: 10) { ...Page } } fragment Page on CustomerConnection { nodes { ...C } } fragment C on Customer { id notes(first: 5) { nodes { body } } }";
    assert_eq!(cost(query), 2 + 10 * (1 + 2 + 5));
    let inline = "{ customer(id: \"cust_x\") { activity(first: 4) { nodes { ... on OrderEvent { orderId } ... on EmailEvent { campaignId } } } } }";
    assert_eq!(cost(inline), 1 + 2 + 4);
}

#[test]
fn a_fragment_bomb_counts_every_expanded_field_without_walking_them_all() {
    let mut query = String::from("{ customers { nodes { ...F0 } } }");
    for level in 0..40 {
        query.push_str(&format!(" fragment F{level} on Customer {{ ...F{next} ...F{next} }}", next = level + 1));
    }
    query.push_str(" fragment F40 on Customer { id }");
    let found = tally(&query, serde_json::json!({}));
    assert_eq!(found.fields, 2 + (1u64 << 40));
}

#[test]
fn introspection_has_its_own_price_and_depth() {
    let found = tally("{ __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }", serde_json::json!({}));
    assert_eq!(found.cost, 100);
    assert!(found.introspects);
    assert_eq!(found.depth, 0);
    assert_eq!(found.introspection_depth, 7);
    let typename = tally("{ __typename customers(first: 1) { nodes { id } } }", serde_json::json!({}));
    assert!(!typename.introspects);
    assert_eq!(typename.depth, 3);
}

#[test]
fn actual_cost_counts_the_items_returned() {
    let document = parse_query("{ customers(first: 50) { nodes { id notes(first: 10) { nodes { body } } } } }").unwrap();
    let DocumentOperations::Single(operation) = &document.operations else { unreachable!() };
    let data = async_graphql::value!({ "customers": { "nodes": [
        { "id": "a", "notes": { "nodes": [{ "body": "x" }, { "body": "y" }] } },
        { "id": "b", "notes": { "nodes": [] } },
    ] } });
    let model = model();
    let requested = model.requested(&document, &operation.node, &Variables::default()).cost;
    assert_eq!(requested, 2 + 50 * (1 + 2 + 10));
    assert_eq!(model.actual(&document, &operation.node, &Variables::default(), &data), 2 + (1 + 2 + 2) + (1 + 2));
}

#[test]
fn the_readmes_worked_example_costs_what_it_says() {
    let query = "{ customers(first: 25, search: \"john@\") { totalCount nodes { id email addresses { city } activity(first: 10) { nodes { title } } } } }";
    assert_eq!(cost(query), 839);
    assert_eq!(cost(&query.replace("first: 25", "first: 50")), 1664);
    let document = parse_query(query).unwrap();
    let DocumentOperations::Single(operation) = &document.operations else { unreachable!() };
    let customer = serde_json::json!({ "id": "c", "email": "e", "addresses": [{ "city": "x" }],
        "activity": { "nodes": [{ "title": "a" }, { "title": "b" }, { "title": "c" }] } });
    let data = Value::from_json(serde_json::json!({ "customers": { "totalCount": 25, "nodes": vec![customer; 25] } })).unwrap();
    assert_eq!(model().actual(&document, &operation.node, &Variables::default(), &data), 189);
}

#[test]
fn the_standard_introspection_query_is_thirteen_deep() {
    let found = tally(include_str!("../../../tests/fixtures/introspection.graphql"), serde_json::json!({}));
    assert_eq!((found.cost, found.depth, found.introspection_depth), (100, 0, 13));
}
