//! Enrichment through the API: derived from real-world inputs, kept current as the profile and
//! the timeline change, and usable in segment rules and list filters.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::Duration;

const ENRICHMENT: &str = "query($id: ID!) { customer(id: $id) { enrichment {
  phone { e164 country lineType valid }
  email { normalized domain freeEmailProvider disposable roleAccount companyDomain }
  location { country region timeZone localTime }
  behaviour { preferredChannel mostActiveHour mostActiveWeekday timeZone lastSeenAt pending }
  updatedAt } } }";

async fn enrichment(app: &TestApp, id: &str) -> Value {
    let body = app.gql(ENRICHMENT, json!({ "id": id })).await;
    assert_no_errors(&body);
    body["data"]["customer"]["enrichment"].clone()
}

/// The enrichment once its behaviour facts have caught up with the timeline.
async fn settled(app: &TestApp, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let e = enrichment(app, id).await;
        if e["behaviour"]["pending"] == false {
            return e;
        }
        assert!(tokio::time::Instant::now() < deadline, "behaviour never caught up: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn profile_facts_follow_the_profile() {
    let app = TestApp::spawn().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("John.Smith+{}@GoogleMail.com", &tag[..8]);
    let id = app
        .create_customer(json!({ "email": email, "phone": "(415) 555-2671", "addresses": [{ "line1": "1 Market St", "city": "San Francisco", "state": "CA", "country": "us" }] }))
        .await;
    let e = enrichment(&app, &id).await;
    assert_eq!(e["phone"], json!({ "e164": "+14155552671", "country": "US", "lineType": "FIXED_LINE_OR_MOBILE", "valid": true }));
    assert_eq!(e["email"]["normalized"], "johnsmith@gmail.com", "plus tag and Gmail dots dropped, googlemail folded");
    assert_eq!((e["email"]["domain"].as_str(), e["email"]["freeEmailProvider"].as_bool()), (Some("googlemail.com"), Some(true)));
    assert_eq!((e["email"]["disposable"].as_bool(), e["email"]["roleAccount"].as_bool(), &e["email"]["companyDomain"]), (Some(false), Some(false), &Value::Null));
    assert_eq!((e["location"]["country"].as_str(), e["location"]["region"].as_str(), e["location"]["timeZone"].as_str()), (Some("US"), Some("CA"), Some("America/Los_Angeles")));
    let local = e["location"]["localTime"].as_str().unwrap();
    assert!(local.ends_with("-07:00") || local.ends_with("-08:00"), "{local}");
    assert_eq!(e["behaviour"]["preferredChannel"], Value::Null, "no events yet");

    // a move to France with a French phone typed the French way, and a work address
    let update = app
        .gql(
            "mutation($id: ID!, $input: CustomerUpdateInput!) { updateCustomer(id: $id, input: $input) { customer { id } } }",
            json!({ "id": id, "input": { "email": format!("sales+{}@Acme-Widgets.io", &tag[..8]), "phone": "01 42 68 53 00", "addresses": [{ "city": "Paris", "country": "FR" }] } }),
        )
        .await;
    assert_no_errors(&update);
    let e = enrichment(&app, &id).await;
    assert_eq!(e["phone"], json!({ "e164": "+33142685300", "country": "FR", "lineType": "FIXED_LINE", "valid": true }));
    assert_eq!((e["email"]["roleAccount"].as_bool(), e["email"]["companyDomain"].as_str(), e["email"]["freeEmailProvider"].as_bool()), (Some(true), Some("acme-widgets.io"), Some(false)));
    assert_eq!((e["location"]["country"].as_str(), &e["location"]["region"], e["location"]["timeZone"].as_str()), (Some("FR"), &Value::Null, Some("Europe/Paris")));
    let local = e["location"]["localTime"].as_str().unwrap();
    assert!(local.ends_with("+01:00") || local.ends_with("+02:00"), "{local}");

    // no address and a phone that cannot be placed: nothing is guessed
    let unplaced = app.create_customer(json!({ "email": unique_email("unplaced"), "phone": "555 0100" })).await;
    let e = enrichment(&app, &unplaced).await;
    assert_eq!(e["phone"], json!({ "e164": null, "country": null, "lineType": null, "valid": false }));
    assert_eq!(e["location"], json!({ "country": null, "region": null, "timeZone": null, "localTime": null }));
    // the country then comes from the phone
    let by_phone = app.create_customer(json!({ "email": unique_email("byphone"), "phone": "+81 3-3224-9999" })).await;
    let e = enrichment(&app, &by_phone).await;
    assert_eq!((e["location"]["country"].as_str(), e["location"]["timeZone"].as_str()), (Some("JP"), Some("Asia/Tokyo")));
    // a disposable address
    let throwaway = app.create_customer(json!({ "email": format!("{}@mailinator.com", &tag[..10]) })).await;
    let e = enrichment(&app, &throwaway).await;
    assert_eq!((e["email"]["disposable"].as_bool(), &e["email"]["companyDomain"]), (Some(true), &Value::Null));
}

#[tokio::test(flavor = "multi_thread")]
async fn behaviour_facts_follow_the_timeline_in_the_customers_time_zone() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("behaviour"), "addresses": [{ "state": "California", "country": "US" }] })).await;
    // Wednesday 2026-03-04 (before US daylight saving): 17:00 UTC is 09:00 in Los Angeles
    let events = json!([
        { "customerId": id, "event": { "type": "EMAIL", "title": "Newsletter", "occurredAt": "2026-03-04T17:05:00Z" } },
        { "customerId": id, "event": { "type": "EMAIL", "title": "Promo", "occurredAt": "2026-03-11T17:40:00Z" } },
        { "customerId": id, "event": { "type": "ORDER", "title": "Order #1", "amount": 20.0, "occurredAt": "2026-03-07T02:00:00Z" } },
        { "customerId": id, "event": { "type": "EMAIL", "title": "Receipt", "occurredAt": "2026-03-07T02:01:00Z" } },
        { "customerId": id, "event": { "type": "PAGE_VIEW", "title": "Home", "occurredAt": "2026-03-18T16:10:00Z" } },
    ]);
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await);
    let e = settled(&app, &id).await;
    let b = &e["behaviour"];
    assert_eq!(b["preferredChannel"], "EMAIL");
    assert_eq!((b["mostActiveHour"].as_i64(), b["mostActiveWeekday"].as_str()), (Some(9), Some("WEDNESDAY")), "{b}");
    assert_eq!((b["timeZone"].as_str(), b["lastSeenAt"].as_str()), (Some("America/Los_Angeles"), Some("2026-03-18T16:10:00.000Z")));

    // moving to New York moves the hours three ahead
    let moved = app
        .gql("mutation($id: ID!) { updateCustomer(id: $id, input: { addresses: [{ state: \"NY\", country: \"US\" }] }) { customer { id } } }", json!({ "id": id }))
        .await;
    assert_no_errors(&moved);
    let e = settled(&app, &id).await;
    assert_eq!((e["behaviour"]["mostActiveHour"].as_i64(), e["behaviour"]["timeZone"].as_str()), (Some(12), Some("America/New_York")));

    // more events move the preferred channel
    let views: Vec<Value> = (0..4).map(|i| json!({ "customerId": id, "event": { "type": "PAGE_VIEW", "title": format!("Page {i}"), "occurredAt": format!("2026-03-2{i}T23:30:00Z") } })).collect();
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": views })).await);
    let e = settled(&app, &id).await;
    assert_eq!(e["behaviour"]["preferredChannel"], "PAGE_VIEW");
    assert_eq!(e["behaviour"]["lastSeenAt"], "2026-03-23T23:30:00.000Z");
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_and_lists_filter_on_enrichment() {
    let app = TestApp::spawn().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let work = app.create_customer(json!({ "email": format!("ada+{}@acme.io", &tag[..6]), "addresses": [{ "country": "FR" }] })).await;
    let free = app.create_customer(json!({ "email": format!("bob.{}@gmail.com", &tag[..6]), "addresses": [{ "country": "FR" }] })).await;
    let _us = app.create_customer(json!({ "email": format!("cy.{}@outlook.com", &tag[..6]), "addresses": [{ "country": "US", "state": "WA" }] })).await;

    let segment = app
        .gql(
            "mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id memberCount } }",
            json!({ "input": { "name": "French businesses", "type": "DYNAMIC", "rules": [
                { "field": "free_email_provider", "operator": "eq", "value": false },
                { "field": "location.country", "operator": "eq", "value": "fr" } ] } }),
        )
        .await;
    assert_no_errors(&segment);
    assert_eq!(segment["data"]["createSegment"]["memberCount"], 1);

    let listed = app
        .gql(
            "query($rules: [SegmentRuleInput!]) { customers(rules: $rules) { nodes { id } } }",
            json!({ "rules": [{ "field": "time_zone", "operator": "eq", "value": "Europe/Paris" }] }),
        )
        .await;
    assert_no_errors(&listed);
    let mut ids: Vec<&str> = listed["data"]["customers"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut expected = vec![work.as_str(), free.as_str()];
    expected.sort();
    assert_eq!(ids, expected);

    let bad = app
        .gql("query($rules: [SegmentRuleInput!]) { customers(rules: $rules) { nodes { id } } }", json!({ "rules": [{ "field": "disposable_email", "operator": "eq", "value": "no" }] }))
        .await;
    assert_eq!((error_code(&bad), error_path(&bad)), ("BAD_USER_INPUT".to_owned(), "rules.0.value".to_owned()), "{bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn customers_without_enrichment_are_backfilled() {
    use whale_crm::db::enrichment;
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(app.create_customer(json!({ "email": format!("b{i}.{}", unique_email("backfill")), "addresses": [{ "country": "JP" }] })).await);
    }
    let events: Vec<Value> = ids.iter().map(|id| json!({ "customerId": id, "event": { "type": "SUPPORT", "title": "Chat", "occurredAt": "2026-05-05T01:00:00Z" } })).collect();
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await);
    settled(&app, &ids[4]).await;
    // as if they predated enrichment
    execute_sql(&format!("DELETE FROM customer_enrichment WHERE store_id = '{}'", app.store.0)).await;
    assert_eq!(enrichment(&app, &ids[0]).await, Value::Null);

    let mut conn = connection().await;
    let mut after = None;
    let mut rounds = 0;
    while let Some(last) = enrichment::backfill(&mut conn, app.store, after, 2).await.expect("backfill") {
        after = Some(last);
        rounds += 1;
    }
    assert_eq!(rounds, 3, "five customers, two at a time, each looked at once");
    for id in &ids {
        let e = settled(&app, id).await;
        assert_eq!(e["location"]["timeZone"], "Asia/Tokyo");
        assert_eq!((e["behaviour"]["preferredChannel"].as_str(), e["behaviour"]["mostActiveHour"].as_i64()), (Some("SUPPORT"), Some(10)), "{e}");
    }
}
