//! Metrics through the API: immediate after orders, RFM quintiles against a hand computation
//! (ties included), the fallback before a fit, and the fitted models once a store has data.

use crate::helpers::*;
use serde_json::{Value, json};
use whale_crm::seed::bulk::{self, Events};

const METRICS: &str = "query($id: ID!) { customer(id: $id) { metrics {
  rfm { recencyScore frequencyScore monetaryScore segment }
  lifetimeValue averageOrderValue totalOrders totalSpent purchaseFrequencyDays churnRisk
  predictedLifetimeValue expectedPurchasesNext12Months method firstOrderAt lastOrderAt computedAt } } }";

const MODEL: &str = "{ metricsModel { method fallbackReason customersUsed repeatCustomersUsed ordersUsed observedUntil fittedAt
  bgNbd { r alpha a b logLikelihood converged } gammaGamma { p q v converged } } }";

async fn metrics(app: &TestApp, id: &str) -> Value {
    let body = app.gql(METRICS, json!({ "id": id })).await;
    assert_no_errors(&body);
    body["data"]["customer"]["metrics"].clone()
}

fn order(customer: &str, amount: f64, at: &str) -> Value {
    json!({ "customerId": customer, "event": { "type": "ORDER", "title": "Order", "amount": amount, "occurredAt": at } })
}

async fn record(app: &TestApp, events: Vec<Value>) {
    let body = app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await;
    assert_no_errors(&body);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_reflect_an_order_as_soon_as_it_is_recorded() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("m") })).await;
    let none = metrics(&app, &id).await;
    assert_eq!(none["totalOrders"], 0);
    assert!(none["rfm"].is_null() && none["churnRisk"].is_null() && none["averageOrderValue"].is_null());
    assert!(none["purchaseFrequencyDays"].is_null());
    record(&app, vec![order(&id, 100.0, "2026-01-01T10:00:00Z"), order(&id, 50.0, "2026-01-01T18:00:00Z")]).await;
    let one_day = metrics(&app, &id).await;
    assert_eq!(one_day["totalOrders"], 2);
    assert_eq!(one_day["lifetimeValue"], 150.0);
    assert_eq!(one_day["averageOrderValue"], 75.0);
    assert!((one_day["purchaseFrequencyDays"].as_f64().unwrap() - 8.0 / 24.0).abs() < 1e-9);
    assert_eq!(one_day["method"], "FALLBACK");
    record(&app, vec![order(&id, 30.0, "2026-01-11T10:00:00Z")]).await;
    let later = metrics(&app, &id).await;
    assert_eq!(later["totalOrders"], 3);
    assert_eq!(later["totalSpent"], 180.0);
    assert_eq!(later["lastOrderAt"], "2026-01-11T10:00:00.000Z");
    assert!((later["purchaseFrequencyDays"].as_f64().unwrap() - 5.0).abs() < 1e-9);
    let risk = later["churnRisk"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&risk), "{risk}");
    assert!(later["predictedLifetimeValue"].as_f64().unwrap() >= 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rfm_quintiles_match_a_hand_computation_with_ties() {
    let app = TestApp::spawn().await;
    // (orders, day of the last order in January 2026, total spent)
    let crafted = [(1, 1, 10.0), (1, 2, 20.0), (1, 2, 20.0), (2, 3, 30.0), (2, 5, 40.0), (3, 5, 50.0), (4, 7, 60.0), (5, 8, 70.0), (5, 9, 80.0), (8, 10, 90.0)];
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for (i, (orders, last_day, spent)) in crafted.iter().enumerate() {
        let id = app.create_customer(json!({ "email": format!("rfm{i}@example.com") })).await;
        let n = *orders as usize;
        for k in 0..n - 1 {
            events.push(order(&id, 1.0, &format!("2025-12-{:02}T12:00:00Z", k + 1)));
        }
        events.push(order(&id, spent - (n - 1) as f64, &format!("2026-01-{last_day:02}T12:00:00Z")));
        ids.push(id);
    }
    record(&app, events).await;
    let refit = app.gql("mutation { refitMetricsModel { method customersUsed fallbackReason } }", json!({})).await;
    assert_no_errors(&refit);
    assert_eq!(refit["data"]["refitMetricsModel"]["customersUsed"], 10);
    assert_eq!(refit["data"]["refitMetricsModel"]["method"], "FALLBACK");
    // Breakpoints (20/40/60/80th discrete percentiles): F [1,2,3,5], R days [2,3,5,8], M [20,30,50,70];
    // score = 1 + breakpoints exceeded.
    let expected = [
        (1, 1, 1, "hibernating"),
        (1, 1, 1, "hibernating"),
        (1, 1, 1, "hibernating"),
        (2, 2, 2, "hibernating"),
        (3, 2, 3, "about_to_sleep"),
        (3, 3, 3, "need_attention"),
        (4, 4, 4, "loyal"),
        (4, 4, 4, "loyal"),
        (5, 4, 5, "champion"),
        (5, 5, 5, "champion"),
    ];
    for (id, (r, f, m, segment)) in ids.iter().zip(expected) {
        let rfm = metrics(&app, id).await["rfm"].clone();
        assert_eq!(rfm, json!({ "recencyScore": r, "frequencyScore": f, "monetaryScore": m, "segment": segment }), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_is_reported_until_a_store_has_enough_data() {
    let app = TestApp::spawn().await;
    let before = app.gql(MODEL, json!({})).await;
    assert_no_errors(&before);
    assert_eq!(before["data"]["metricsModel"]["method"], "FALLBACK");
    assert!(before["data"]["metricsModel"]["fallbackReason"].as_str().unwrap().contains("no fit yet"));
    let id = app.create_customer(json!({ "email": unique_email("few") })).await;
    record(&app, vec![order(&id, 10.0, "2026-02-01T00:00:00Z")]).await;
    let refit = app.gql("mutation { refitMetricsModel { method fallbackReason customersUsed bgNbd { r } } }", json!({})).await;
    let model = &refit["data"]["refitMetricsModel"];
    assert_eq!(model["method"], "FALLBACK");
    assert!(model["fallbackReason"].as_str().unwrap().contains("not enough data"));
    assert!(model["bgNbd"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_with_history_gets_fitted_models() {
    let app = TestApp::spawn().await;
    bulk::load(&mut connection().await, app.store, 500, Events::Natural, 11).await.unwrap();
    let refit = app.gql(&MODEL.replace("{ metricsModel", "mutation { refitMetricsModel"), json!({})).await;
    assert_no_errors(&refit);
    let model = &refit["data"]["refitMetricsModel"];
    assert_eq!(model["method"], "MODEL", "{model:#}");
    assert!(model["customersUsed"].as_i64().unwrap() >= 200);
    for p in ["r", "alpha", "a", "b"] {
        assert!(model["bgNbd"][p].as_f64().unwrap() > 0.0, "{p}");
    }
    assert_eq!(model["bgNbd"]["converged"], true);
    assert_eq!(model["gammaGamma"]["converged"], true);
    let read = app.gql(MODEL, json!({})).await;
    assert_eq!(read["data"]["metricsModel"]["bgNbd"], model["bgNbd"], "the fit is stored");
    let page = app.gql("{ customers(first: 100, sort: TOTAL_ORDERS) { nodes { metrics { method churnRisk predictedLifetimeValue rfm { segment } } } } }", json!({})).await;
    assert_no_errors(&page);
    let buyers: Vec<&Value> = page["data"]["customers"]["nodes"].as_array().unwrap().iter().filter(|n| !n["metrics"]["churnRisk"].is_null()).collect();
    assert!(buyers.len() > 50);
    for b in buyers {
        assert_eq!(b["metrics"]["method"], "MODEL");
        assert!((0.0..=1.0).contains(&b["metrics"]["churnRisk"].as_f64().unwrap()));
        assert!(b["metrics"]["predictedLifetimeValue"].as_f64().unwrap() >= 0.0);
        assert!(b["metrics"]["rfm"]["segment"].is_string());
    }
}
