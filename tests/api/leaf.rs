//! Events, notes, addresses — and a listed page's customers with their connections, read ahead
//! (`graphql::prefetch`) — resolve a plain selection directly and anything else through
//! async-graphql (`graphql::leaf`): both paths must give the same response.

use crate::helpers::*;
use serde_json::{Value, json};

const EVENT: &str = "id customerId type title amount occurredAt externalId properties __typename";
const NOTE: &str = "id customerId body author createdAt updatedAt __typename";
const ADDRESS: &str = "id isDefault firstName lastName company line1 line2 city state postalCode country phone __typename";

/// The customer's nested lists, selected plainly or (`fragments`) through inline fragments,
/// which only async-graphql's own path resolves.
fn query(fragments: bool) -> String {
    let wrap = |on: &str, fields: &str| if fragments { format!("... on {on} {{ {fields} }}") } else { fields.to_owned() };
    format!(
        "query($id: ID!) {{ customer(id: $id) {{
            activity(first: 10) {{ nodes {{ {events} }} edges {{ node {{ {events} }} }} }}
            notes(first: 10) {{ nodes {{ {notes} }} edges {{ node {{ {notes} }} }} }}
            addresses {{ {addresses} }} defaultAddress {{ {addresses} }}
        }} }}",
        events = wrap("ActivityEvent", EVENT),
        notes = wrap("Note", NOTE),
        addresses = wrap("Address", ADDRESS),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_and_general_resolution_agree() {
    let app = TestApp::spawn().await;
    let id = app
        .create_customer(json!({
            "email": unique_email("leaf"),
            "addresses": [{ "firstName": "Ada", "line1": "1 Main St", "city": "Oslo", "country": "NO", "phone": "+4722334455" }, { "city": "Bergen" }]
        }))
        .await;
    let events = json!([
        { "customerId": id, "event": { "type": "ORDER", "title": "Order \"#1\"", "amount": 12.5, "orderId": "1", "externalId": "x-1", "properties": { "items": [1, 2], "gift": true } } },
        { "customerId": id, "event": { "type": "EMAIL", "title": "Welcome ✉", "campaignId": "c-9" } },
        { "customerId": id, "event": { "type": "PAGE_VIEW", "title": "Viewed /shoes", "referrer": "https://example.com" } },
        { "customerId": id, "event": { "type": "SUPPORT", "title": "Chat", "agent": "Sam" } },
        { "customerId": id, "event": { "type": "CUSTOM", "title": "Quiz done", "amount": 0.1 } },
    ]);
    let body = app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await;
    assert_eq!(body["data"]["recordActivities"]["createdCount"], 5, "{body}");
    let body = app.gql("mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"Prefers\\nemail\", author: \"Ann\") { id } }", json!({ "id": id })).await;
    assert_no_errors(&body);

    let direct = app.gql(&query(false), json!({ "id": id })).await;
    let general = app.gql(&query(true), json!({ "id": id })).await;
    assert_no_errors(&direct);
    // (the bucket's level in `extensions.cost` moves between the two)
    assert_eq!(direct["data"], general["data"]);
    assert_eq!(direct["extensions"]["cost"]["actualQueryCost"], general["extensions"]["cost"]["actualQueryCost"]);
    let customer = &direct["data"]["customer"];
    assert_eq!(customer["activity"]["nodes"].as_array().map(Vec::len), Some(5));
    let order: &Value = customer["activity"]["nodes"].as_array().unwrap().iter().find(|e| e["type"] == "ORDER").unwrap();
    assert_eq!(order["__typename"], "OrderEvent");
    assert_eq!(order["amount"], 12.5);
    assert_eq!(order["properties"], json!({ "items": [1, 2], "gift": true }));
    assert_eq!(customer["notes"]["nodes"][0]["body"], "Prefers\nemail");
    assert_eq!(customer["addresses"].as_array().map(Vec::len), Some(2));
    assert_eq!(customer["defaultAddress"]["city"], "Oslo");
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_repeated_fields_and_directives_resolve_as_graphql_says() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("leaf"), "addresses": [{ "city": "Oslo" }] })).await;
    let body = app
        .gql(
            "query($id: ID!, $no: Boolean!) { customer(id: $id) { addresses {
                town: city  city  city  kind: __typename  country @include(if: $no)  line1 @skip(if: $no)
            } } }",
            json!({ "id": id, "no": false }),
        )
        .await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["customer"]["addresses"][0], json!({ "town": "Oslo", "city": "Oslo", "kind": "Address", "line1": null }));
}

const CUSTOMER: &str = "id email firstName lastName phone tags metadata totalOrders totalSpent firstOrderAt lastOrderAt createdAt updatedAt __typename";

/// A page of customers with everything they show from other tables, selected plainly (read ahead
/// with the page and resolved directly) or (`fragments`) through inline fragments (resolved by
/// async-graphql through the DataLoaders).
fn page_query(fragments: bool) -> String {
    let wrap = |on: &str, fields: &str| if fragments { format!("... on {on} {{ {fields} }}") } else { fields.to_owned() };
    let page_info = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }";
    let customer = wrap(
        "Customer",
        &format!(
            "{CUSTOMER} addresses {{ {ADDRESS} }} defaultAddress {{ city }}
            activity(first: 2) {{ nodes {{ {EVENT} }} edges {{ cursor node {{ title }} }} {page_info} __typename }}
            older: activity(first: 10, types: [ORDER, EMAIL]) {{ nodes {{ title }} }}
            notes(first: 1) {{ nodes {{ {NOTE} }} edges {{ cursor node {{ body }} }} {page_info} }}"
        ),
    );
    format!("{{ customers(first: 10, sort: EMAIL, order: ASC) {{ nodes {{ {customer} }} edges {{ cursor node {{ {customer} }} }} }} }}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_read_ahead_resolves_as_async_graphql_would() {
    let app = TestApp::spawn().await;
    let mut events = Vec::new();
    for i in 0..3 {
        let addresses = if i == 0 { json!([]) } else { json!([{ "city": "Oslo", "country": "NO" }, { "city": "Bergen", "isDefault": true }]) };
        let input = json!({ "email": format!("p{i}@page.com"), "firstName": "Kim", "tags": ["vip", "b2b"], "metadata": { "source": "fair" }, "addresses": addresses });
        let id = app.create_customer(input).await;
        for j in 0..i * 2 {
            let title = format!("e{i}-{j}");
            let event = if j % 2 == 0 { json!({ "type": "ORDER", "title": title, "amount": 2.5 }) } else { json!({ "type": "PAGE_VIEW", "title": title }) };
            events.push(json!({ "customerId": id, "event": event }));
        }
        for j in 0..i {
            let body = app.gql("mutation($id: ID!, $b: String!) { addCustomerNote(customerId: $id, body: $b) { id } }", json!({ "id": id, "b": format!("n{j}") })).await;
            assert_no_errors(&body);
        }
    }
    let body = app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await;
    assert_eq!(body["data"]["recordActivities"]["createdCount"], 6, "{body}");

    let direct = app.gql(&page_query(false), json!({})).await;
    let general = app.gql(&page_query(true), json!({})).await;
    assert_no_errors(&direct);
    assert_eq!(direct["data"], general["data"]);
    let nodes = direct["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[2]["activity"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(nodes[2]["activity"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(nodes[2]["older"]["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(nodes[2]["notes"]["edges"][0]["node"]["body"], "n1");
    assert_eq!(nodes[1]["defaultAddress"]["city"], "Bergen");
    assert_eq!(nodes[0]["defaultAddress"], Value::Null);
    assert_eq!(nodes[0]["activity"]["pageInfo"]["startCursor"], Value::Null);
}
