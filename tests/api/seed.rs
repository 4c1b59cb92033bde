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
