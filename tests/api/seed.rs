//! Seeded data is consistent: every customer's totals equal its recorded orders, and fixed
//! event counts are exact.

use crate::helpers::*;
use serde_json::json;
use whale_crm::seed::bulk::{self, Events};

const TOTALS_AND_ORDERS: &str = "{ customers(first: 60) { nodes { totalOrders totalSpent firstOrderAt lastOrderAt
  addresses { country } activity(types: [ORDER], first: 100) { nodes { amount occurredAt } } } } }";

#[tokio::test(flavor = "multi_thread")]
async fn natural_histories_keep_totals_equal_to_their_orders() {
    let app = TestApp::spawn().await;
    let loaded = bulk::load(&mut connection().await, app.store, 60, Events::Natural, 7).await.unwrap();
    assert_eq!(loaded.customers, 60);
    assert!(loaded.events > 60, "{loaded:?}");
    let body = app.gql(TOTALS_AND_ORDERS, json!({})).await;
    assert_no_errors(&body);
    let customers = body["data"]["customers"]["nodes"].as_array().unwrap();
    assert_eq!(customers.len(), 60);
    let mut buyers = 0;
    for c in customers {
        let orders = c["activity"]["nodes"].as_array().unwrap();
        assert_eq!(c["totalOrders"].as_u64().unwrap() as usize, orders.len());
        let cents: i64 = orders.iter().map(|o| (o["amount"].as_f64().unwrap() * 100.0).round() as i64).sum();
        assert_eq!((c["totalSpent"].as_f64().unwrap() * 100.0).round() as i64, cents);
        if let Some(last) = orders.first() {
            buyers += 1;
            assert_eq!(c["lastOrderAt"], last["occurredAt"]);
            assert_eq!(c["firstOrderAt"], orders.last().unwrap()["occurredAt"]);
        }
        assert_eq!(c["addresses"].as_array().unwrap().len(), 1);
    }
    assert!(buyers > 20, "{buyers} buyers of 60");
}

#[tokio::test(flavor = "multi_thread")]
async fn fixed_event_counts_are_exact() {
    let app = TestApp::spawn().await;
    bulk::load(&mut connection().await, app.store, 30, Events::Exactly(7), 1).await.unwrap();
    let body = app.gql("{ customers(first: 30) { totalCount nodes { activity(first: 10) { nodes { id } } } } }", json!({})).await;
    assert_eq!(body["data"]["customers"]["totalCount"], 30);
    for c in body["data"]["customers"]["nodes"].as_array().unwrap() {
        assert_eq!(c["activity"]["nodes"].as_array().unwrap().len(), 7);
    }
}

/// The README's list query, as written there.
const README_LIST: &str = r#"{
  customers(search: "john@", tags: ["vip", "wholesale"], createdAfter: "2026-01-01",
            sort: LAST_ORDER_AT, order: DESC, first: 25) {
    totalCount
    edges { cursor node { id email firstName lastName totalSpent lastOrderAt } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_store_holds_the_product_pages_customers() {
    let app = TestApp::spawn().await;
    let mut conn = connection().await;
    whale_crm::seed::showcase::load(&mut conn, app.store, chrono::Utc::now()).await.unwrap();
    bulk::load(&mut conn, app.store, 20, Events::Natural, 2026).await.unwrap();
    // the README's list query finds John Rivera
    let body = app.gql(README_LIST, json!({})).await;
    assert_no_errors(&body);
    let john = &body["data"]["customers"]["edges"][0]["node"];
    assert_eq!(body["data"]["customers"]["totalCount"], 1, "{body}");
    assert_eq!((john["email"].as_str(), john["firstName"].as_str(), john["lastName"].as_str()), (Some("john@acmecorp.com"), Some("John"), Some("Rivera")));
    assert_eq!(john["totalSpent"].as_f64(), Some(12840.0));
    // his totals, timeline and segments as the product page shows them
    let body = app
        .gql(
            r#"query($id: ID!) { customer(id: $id) { totalOrders tags phone
                 activity(first: 4) { nodes { type title ... on OrderEvent { amount } ... on EmailEvent { campaignId } ... on PageViewEvent { referrer } ... on SupportEvent { agent } } }
                 segments { name } } }"#,
            json!({ "id": john["id"] }),
        )
        .await;
    assert_no_errors(&body);
    let customer = &body["data"]["customer"];
    assert_eq!(customer["totalOrders"], 47);
    assert_eq!(customer["tags"], json!(["vip", "wholesale"]));
    let titles: Vec<&str> = customer["activity"]["nodes"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Order #1047 placed", "Opened: Spring Collection Launch", "Viewed: /products/premium-leather-bag", "Chat: Sizing question"]);
    assert_eq!(customer["activity"]["nodes"][0]["amount"].as_f64(), Some(289.0));
    assert!(customer["segments"].as_array().unwrap().iter().any(|s| s["name"] == "VIP Invite List"), "{body}");
    // the README's lookup by email finds Sarah Chen, and both segments are there
    let body = app.gql(r#"{ customerByEmail(email: "SARAH.CHEN@example.com") { firstName lastName defaultAddress { city } } segments(first: 10) { nodes { name type memberCount } } }"#, json!({})).await;
    assert_no_errors(&body);
    assert_eq!(body["data"]["customerByEmail"]["defaultAddress"]["city"], "Springfield", "{body}");
    let segments = body["data"]["segments"]["nodes"].as_array().unwrap();
    let vip = segments.iter().find(|s| s["name"] == "VIP Invite List").expect("VIP Invite List");
    assert_eq!((vip["type"].as_str(), vip["memberCount"].as_i64()), (Some("STATIC"), Some(2)));
    assert!(segments.iter().any(|s| s["name"] == "High-Value Churning" && s["type"] == "DYNAMIC"), "{body}");
}
