//! Segments through the API, and the SQL compilation checked against the in-memory evaluator on
//! many generated rule trees over a seeded store.

use crate::helpers::*;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use whale_crm::db::customer_list::{self, CustomerFilter, Direction, SortKey};
use whale_crm::db::segments::Membership;
use whale_crm::domain::segment::eval::{EnrichmentFacts, EventFacts, Facts, holds};
use whale_crm::domain::segment::rules::{RawGroup, RawRule};
use whale_crm::domain::segment::{Match, RuleGroup};
use whale_crm::seed::bulk::{self, Events};

const CREATE: &str = "mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id name type rules memberCount members(first: 50) { nodes { email } } } }";

async fn order(app: &TestApp, id: &str, amount: f64, at: &str) {
    let body = app.gql(crate::activity::RECORD, json!({ "id": id, "input": { "type": "ORDER", "title": "o", "amount": amount, "occurredAt": at } })).await;
    assert_no_errors(&body);
}

fn emails(segment: &Value) -> BTreeSet<String> {
    segment["members"]["nodes"].as_array().unwrap().iter().map(|n| n["email"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seed_examples_work_and_membership_follows_the_data() {
    let app = TestApp::spawn().await;
    let big = app.create_customer(json!({ "email": "big@x.com", "addresses": [{ "city": "Austin", "country": "US" }] })).await;
    let small = app.create_customer(json!({ "email": "small@x.com" })).await;
    let recent = app.create_customer(json!({ "email": "recent@x.com" })).await;
    order(&app, &big, 600.0, "2025-06-01T00:00:00Z").await;
    order(&app, &small, 50.0, "2025-06-01T00:00:00Z").await;
    order(&app, &recent, 900.0, &Utc::now().to_rfc3339()).await;
    let dynamic = app
        .gql(CREATE, json!({ "input": { "name": "High-Value Lapsed", "type": "DYNAMIC", "rules": [
            { "field": "total_spent", "operator": "gte", "value": 500 },
            { "field": "last_order_at", "operator": "before", "value": "90_days_ago" },
            { "field": "churn_risk", "operator": "gte", "value": 0.6 }
        ] } }))
        .await;
    assert_no_errors(&dynamic);
    let segment = &dynamic["data"]["createSegment"];
    assert!(segment["id"].as_str().unwrap().starts_with("seg_"));
    assert_eq!(segment["type"], "DYNAMIC");
    assert_eq!(segment["memberCount"], 1);
    assert_eq!(emails(segment), BTreeSet::from(["big@x.com".to_owned()]));
    assert_eq!(segment["rules"]["rules"][1], json!({ "field": "last_order_at", "operator": "before", "value": "90_days_ago" }));
    let seg_id = segment["id"].as_str().unwrap().to_owned();

    // Membership follows new orders: `small` crosses 500.
    order(&app, &small, 460.0, "2025-07-01T00:00:00Z").await;
    let count = app.gql("query($id: ID!) { segment(id: $id) { memberCount } }", json!({ "id": seg_id })).await;
    assert_eq!(count["data"]["segment"]["memberCount"], 2);
    let listed = app.gql("query($s: ID) { customers(segmentId: $s, sort: EMAIL, order: ASC) { nodes { email segments { name } } } }", json!({ "s": seg_id })).await;
    assert_eq!(listed["data"]["customers"]["nodes"], json!([
        { "email": "big@x.com", "segments": [{ "name": "High-Value Lapsed" }] },
        { "email": "small@x.com", "segments": [{ "name": "High-Value Lapsed" }] }
    ]));

    // The static example; members added and removed; deleting a customer removes it.
    let vip = app.gql(CREATE, json!({ "input": { "name": "VIP Invite List", "type": "STATIC", "customerIds": [big, recent] } })).await;
    assert_no_errors(&vip);
    let vip_id = vip["data"]["createSegment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(vip["data"]["createSegment"]["memberCount"], 2);
    let added = app.gql("mutation($id: ID!, $c: [ID!]!) { addSegmentMembers(id: $id, customerIds: $c) { memberCount } }", json!({ "id": vip_id, "c": [small] })).await;
    assert_eq!(added["data"]["addSegmentMembers"]["memberCount"], 3);
    let removed = app.gql("mutation($id: ID!, $c: [ID!]!) { removeSegmentMembers(id: $id, customerIds: $c) { memberCount } }", json!({ "id": vip_id, "c": [big] })).await;
    assert_eq!(removed["data"]["removeSegmentMembers"]["memberCount"], 2);
    app.gql("mutation($id: ID!) { deleteCustomer(id: $id) { deletedCustomerId } }", json!({ "id": recent })).await;
    let after = app.gql("query($id: ID!) { segment(id: $id) { memberCount } }", json!({ "id": vip_id })).await;
    assert_eq!(after["data"]["segment"]["memberCount"], 1);

    // Activity conditions: opened a campaign recently; viewed bag pages at least twice.
    let email = json!({ "type": "EMAIL", "title": "Opened: Spring", "campaignId": "camp_spring", "occurredAt": Utc::now().to_rfc3339() });
    assert_no_errors(&app.gql(crate::activity::RECORD, json!({ "id": small, "input": email })).await);
    for _ in 0..2 {
        let view = json!({ "type": "PAGE_VIEW", "title": "Viewed: /products/leather-BAG" });
        assert_no_errors(&app.gql(crate::activity::RECORD, json!({ "id": big, "input": view })).await);
    }
    let engaged = app
        .gql(CREATE, json!({ "input": { "name": "Engaged", "type": "DYNAMIC", "match": "ANY", "rules": [
            { "field": "activity", "operator": "exists", "value": { "type": "EMAIL", "campaign_id": "camp_spring", "since": "30_days_ago" } },
            { "field": "activity", "operator": "gte", "value": { "type": "PAGE_VIEW", "title_contains": "bag", "count": 2 } }
        ] } }))
        .await;
    assert_no_errors(&engaged);
    assert_eq!(emails(&engaged["data"]["createSegment"]), BTreeSet::from(["big@x.com".to_owned(), "small@x.com".to_owned()]));

    // Membership follows profile updates too.
    let vips = app.gql(CREATE, json!({ "input": { "name": "Tagged VIP", "type": "DYNAMIC", "rules": [{ "field": "tags", "operator": "contains", "value": "vip" }] } })).await;
    let vips_id = vips["data"]["createSegment"]["id"].as_str().unwrap().to_owned();
    assert_eq!(vips["data"]["createSegment"]["memberCount"], 0);
    app.gql("mutation($id: ID!) { updateCustomer(id: $id, input: { addTags: [\"vip\"] }) { customer { id } } }", json!({ "id": big })).await;
    let now_vip = app.gql("query($id: ID!) { segment(id: $id) { memberCount } }", json!({ "id": vips_id })).await;
    assert_eq!(now_vip["data"]["segment"]["memberCount"], 1);
    app.gql("mutation($id: ID!) { deleteSegment(id: $id) { deletedSegmentId } }", json!({ "id": vips_id })).await;

    // Rules can be replaced; segments are listed and deleted.
    let updated = app
        .gql("mutation($id: ID!) { updateSegment(id: $id, input: { name: \"Small spenders\", rules: [{ field: \"total_spent\", operator: \"lt\", value: 100 }] }) { name memberCount } }", json!({ "id": seg_id }))
        .await;
    assert_eq!(updated["data"]["updateSegment"], json!({ "name": "Small spenders", "memberCount": 0 }));
    let list = app.gql("{ segments { nodes { name } pageInfo { hasNextPage } } }", json!({})).await;
    assert_eq!(list["data"]["segments"]["nodes"], json!([{ "name": "Small spenders" }, { "name": "VIP Invite List" }, { "name": "Engaged" }]));
    let deleted = app.gql("mutation($id: ID!) { deleteSegment(id: $id) { deletedSegmentId } }", json!({ "id": seg_id })).await;
    assert_eq!(deleted["data"]["deleteSegment"]["deletedSegmentId"], seg_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_segments_are_refused_naming_the_rule_and_nothing_is_half_applied() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "name": "x", "type": "DYNAMIC", "rules": [{ "field": "shoe_size", "operator": "eq", "value": 42 }] }), "input.rules.0.field"),
        (json!({ "name": "x", "type": "DYNAMIC", "rules": [{ "field": "tags", "operator": "exists" }, { "field": "email", "operator": "gt", "value": "a" }] }), "input.rules.1.operator"),
        (json!({ "name": "x", "type": "DYNAMIC", "groups": [{ "match": "ANY", "rules": [{ "field": "created_at", "operator": "after", "value": "soon" }] }] }), "input.groups.0.rules.0.value"),
        (json!({ "name": "x", "type": "DYNAMIC", "rules": [{ "field": "activity", "operator": "exists", "value": { "type": "TELEPATHY" } }] }), "input.rules.0.value"),
        (json!({ "name": "x", "type": "DYNAMIC", "rules": [{ "field": "activity", "operator": "gte", "value": { "type": "EMAIL" } }] }), "input.rules.0.value"),
        (json!({ "name": "x", "type": "DYNAMIC", "rules": [{ "field": "activity", "operator": "contains", "value": { "type": "EMAIL" } }] }), "input.rules.0.operator"),
        (json!({ "name": " ", "type": "STATIC" }), "input.name"),
        (json!({ "name": "x", "type": "STATIC", "rules": [{ "field": "tags", "operator": "exists" }] }), "input.rules"),
        (json!({ "name": "x", "type": "STATIC", "customerIds": ["nope"] }), "input.customerIds.0"),
    ];
    for (input, path) in cases {
        let body = app.gql(CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}");
        assert_eq!(error_path(&body), path, "{input}");
    }
    let named = app.gql(CREATE, json!({ "input": { "name": "x", "type": "DYNAMIC", "rules": [{ "field": "total_spent", "operator": "gte", "value": "lots" }] } })).await;
    assert!(named["errors"][0]["message"].as_str().unwrap().contains("rule 0 (total_spent gte)"), "{named}");

    let mine = app.create_customer(json!({ "email": unique_email("m") })).await;
    let (_, other_key) = new_store("other", false).await;
    let theirs = app.gql_as(&other_key, crate::helpers::CREATE, json!({ "input": { "email": unique_email("t") } })).await;
    let theirs = theirs["data"]["createCustomer"]["customer"]["id"].as_str().unwrap().to_owned();
    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());
    let body = app.gql(CREATE, json!({ "input": { "name": "x", "type": "STATIC", "customerIds": [mine, theirs, missing] } })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(error_path(&body), "input.customerIds.1");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&theirs) && message.contains(&missing) && !message.contains(&mine), "{message}");
    let none = app.gql("{ segments { nodes { id } } }", json!({})).await;
    assert_eq!(none["data"]["segments"]["nodes"], json!([]), "nothing half-written");

    let dynamic = app.gql(CREATE, json!({ "input": { "name": "d", "type": "DYNAMIC", "rules": [{ "field": "tags", "operator": "exists" }] } })).await;
    let id = dynamic["data"]["createSegment"]["id"].as_str().unwrap().to_owned();
    let add = app.gql("mutation($id: ID!, $c: [ID!]!) { addSegmentMembers(id: $id, customerIds: $c) { id } }", json!({ "id": id, "c": [mine] })).await;
    assert_eq!(error_code(&add), "BAD_USER_INPUT");
    let foreign = app.gql_as(&other_key, "query($id: ID!) { segment(id: $id) { id } }", json!({ "id": id })).await;
    assert!(foreign["data"]["segment"].is_null(), "another store's segment does not exist");
    let foreign_filter = app.gql_as(&other_key, "query($id: ID) { customers(segmentId: $id) { totalCount } }", json!({ "id": id })).await;
    assert_eq!(error_code(&foreign_filter), "NOT_FOUND");
}

/// Facts of every customer of the store, read through the API.
async fn facts(app: &TestApp) -> BTreeMap<String, Facts> {
    let mut nodes = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql("query($after: String) { customers(first: 200, after: $after) { pageInfo { hasNextPage endCursor } nodes { id email firstName lastName
                  phone tags metadata totalSpent totalOrders lastOrderAt firstOrderAt createdAt defaultAddress { country state city postalCode }
                  enrichment { phone { country lineType valid } email { freeEmailProvider disposable roleAccount companyDomain }
                    location { country region timeZone } behaviour { preferredChannel mostActiveHour mostActiveWeekday lastSeenAt } } } } }",
                json!({ "after": after }))
            .await;
        assert_no_errors(&body);
        nodes.extend(body["data"]["customers"]["nodes"].as_array().unwrap().iter().cloned());
        if body["data"]["customers"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = body["data"]["customers"]["pageInfo"]["endCursor"].clone();
    }
    let time = |v: &Value| v.as_str().map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc));
    let text = |v: &Value| v.as_str().map(str::to_owned);
    nodes
        .iter()
        .map(|n| {
            let a = &n["defaultAddress"];
            let facts = Facts {
                total_spent: (n["totalSpent"].as_f64().unwrap() * 100.0).round() as i64,
                total_orders: n["totalOrders"].as_i64().unwrap() as i32,
                order_days: 0,
                first_day_spent: 0,
                last_order_at: time(&n["lastOrderAt"]),
                first_order_at: time(&n["firstOrderAt"]),
                created_at: time(&n["createdAt"]).unwrap(),
                email: n["email"].as_str().unwrap().to_owned(),
                first_name: text(&n["firstName"]),
                last_name: text(&n["lastName"]),
                phone: text(&n["phone"]),
                tags: n["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect(),
                metadata: n["metadata"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect(),
                country: text(&a["country"]),
                state: text(&a["state"]),
                city: text(&a["city"]),
                postal_code: text(&a["postalCode"]),
                events: Vec::new(),
                enrichment: enrichment_facts(&n["enrichment"]),
            };
            (n["id"].as_str().unwrap().to_owned(), facts)
        })
        .collect()
}

/// The enrichment as the API shows it, as rules see it.
fn enrichment_facts(e: &Value) -> Option<EnrichmentFacts> {
    let text = |v: &Value| v.as_str().map(str::to_lowercase);
    let weekdays = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
    (!e.is_null()).then(|| EnrichmentFacts {
        phone_country: text(&e["phone"]["country"]),
        phone_line_type: text(&e["phone"]["lineType"]),
        phone_valid: e["phone"]["valid"].as_bool(),
        free_email_provider: e["email"]["freeEmailProvider"].as_bool().unwrap(),
        disposable_email: e["email"]["disposable"].as_bool().unwrap(),
        role_account: e["email"]["roleAccount"].as_bool().unwrap(),
        company_domain: text(&e["email"]["companyDomain"]),
        country: text(&e["location"]["country"]),
        region: text(&e["location"]["region"]),
        time_zone: text(&e["location"]["timeZone"]),
        preferred_channel: text(&e["behaviour"]["preferredChannel"]),
        most_active_hour: e["behaviour"]["mostActiveHour"].as_i64().map(|h| h as i32),
        most_active_weekday: e["behaviour"]["mostActiveWeekday"].as_str().and_then(|d| weekdays.iter().position(|w| *w == d)).map(|i| i as i32 + 1),
        last_seen_at: e["behaviour"]["lastSeenAt"].as_str().map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)),
    })
}

fn random_rule(rng: &mut StdRng, pool: &[Facts]) -> RawRule {
    let sample = pool.choose(rng).unwrap();
    let amount = json!(f64::from(rng.random_range(0..2000u32)) / 2.0);
    let since = json!(format!("{}_days_ago", rng.random_range(1..400)));
    let campaign = *["camp_spring26", "camp_winback", "camp_bf25"].choose(rng).unwrap();
    let product = *["BAG", "shirt", "mug"].choose(rng).unwrap();
    let count = rng.random_range(0..4);
    let enriched = sample.enrichment.clone().unwrap_or_default();
    let (field, operator, value): (String, &str, Value) = match rng.random_range(0..32) {
        29 => (["disposable_email", "role_account"].choose(rng).unwrap().to_string(), *["eq", "neq", "exists"].choose(rng).unwrap(), json!(rng.random_bool(0.5))),
        30 => ("phone_line_type".into(), *["eq", "neq", "in", "not_exists"].choose(rng).unwrap(), json!(["mobile", "fixed_line", "fixed_line_or_mobile"].choose(rng).unwrap())),
        31 => match rng.random_range(0..2) {
            0 => ("phone_country".into(), *["eq", "neq", "not_in"].choose(rng).unwrap(), json!(enriched.phone_country.clone().unwrap_or_else(|| "us".into()))),
            _ => ("location.region".into(), *["eq", "neq", "exists", "not_exists"].choose(rng).unwrap(), json!(enriched.region.clone().unwrap_or_else(|| "ca".into()))),
        },
        22 => ("free_email_provider".into(), *["eq", "neq"].choose(rng).unwrap(), json!(rng.random_bool(0.5))),
        23 => ("phone_valid".into(), *["eq", "neq", "exists", "not_exists"].choose(rng).unwrap(), json!(rng.random_bool(0.7))),
        24 => ("company_domain".into(), *["eq", "exists", "not_exists", "ends_with"].choose(rng).unwrap(), json!(enriched.company_domain.unwrap_or_else(|| "acme.com".into()))),
        25 => ("location.country".into(), *["eq", "in", "not_in"].choose(rng).unwrap(), json!(enriched.country.unwrap_or_else(|| "us".into()))),
        26 => ("time_zone".into(), *["eq", "exists", "not_exists", "starts_with"].choose(rng).unwrap(), json!(enriched.time_zone.unwrap_or_else(|| "america/".into()))),
        27 => ("preferred_channel".into(), *["eq", "neq", "in"].choose(rng).unwrap(), json!(["order", "email", "page_view", "support"].choose(rng).unwrap())),
        28 => match rng.random_range(0..3) {
            0 => ("most_active_hour".into(), *["gte", "lt", "eq"].choose(rng).unwrap(), json!(rng.random_range(0..24))),
            1 => ("most_active_weekday".into(), *["eq", "in"].choose(rng).unwrap(), json!(["monday", "saturday", "sunday"].choose(rng).unwrap())),
            _ => ("last_seen_at".into(), *["before", "after", "not_exists"].choose(rng).unwrap(), json!(format!("{}_days_ago", rng.random_range(0..300)))),
        },
        18 => ("activity".into(), *["exists", "not_exists"].choose(rng).unwrap(), json!({ "type": "EMAIL", "campaign_id": campaign, "since": since })),
        19 => ("activity".into(), *["gte", "lt", "eq", "gt"].choose(rng).unwrap(), json!({ "type": "PAGE_VIEW", "title_contains": product, "count": count })),
        20 => ("activity".into(), *["exists", "not_exists"].choose(rng).unwrap(), json!({ "type": "ORDER", "since": since })),
        21 => ("activity".into(), *["lte", "gte"].choose(rng).unwrap(), json!({ "since": since, "count": count * 5 })),
        14 => ("churn_risk".into(), *["gt", "lt", "gte", "exists", "not_exists"].choose(rng).unwrap(), json!(rng.random_range(0..100) as f64 / 100.0)),
        15 => ("rfm_recency_score".into(), *["eq", "gte", "lte", "in"].choose(rng).unwrap(), json!(rng.random_range(1..6))),
        16 => ("rfm_monetary_score".into(), *["gt", "neq", "between"].choose(rng).unwrap(), json!(rng.random_range(1..6))),
        17 => ("rfm_segment".into(), *["eq", "neq", "in"].choose(rng).unwrap(), json!(["champion", "loyal", "hibernating", "at_risk", "new"].choose(rng).unwrap())),
        0 => ("total_spent".into(), *["eq", "neq", "gt", "gte", "lt", "lte"].choose(rng).unwrap(), amount.clone()),
        1 => ("total_orders".into(), *["gt", "lte", "eq", "in", "between"].choose(rng).unwrap(), json!(rng.random_range(0..6))),
        2 => ("average_order_value".into(), *["gte", "lt", "exists", "not_exists"].choose(rng).unwrap(), amount.clone()),
        3 => ("last_order_at".into(), *["before", "after", "exists", "not_exists"].choose(rng).unwrap(), json!(format!("{}_days_ago", rng.random_range(0..500)))),
        4 => ("created_at".into(), *["before", "after"].choose(rng).unwrap(), json!(["30_days_ago", "6_months_ago", "2_weeks_ago", "today", "2025-06-01"].choose(rng).unwrap())),
        5 => ("first_order_at".into(), "between", json!(["18_months_ago", "3_months_ago"])),
        6 => ("email".into(), *["contains", "starts_with", "ends_with", "not_contains"].choose(rng).unwrap(), json!(sample.email[..3].to_uppercase())),
        7 => ("email_domain".into(), *["eq", "neq", "in", "not_in"].choose(rng).unwrap(), json!(sample.email.split('@').nth(1).unwrap())),
        8 => ("tags".into(), *["contains", "not_contains", "in", "not_in", "exists", "not_exists"].choose(rng).unwrap(), json!(sample.tags.first().cloned().unwrap_or_else(|| "vip".into()))),
        9 => ("address.country".into(), *["eq", "neq", "in", "not_in", "exists"].choose(rng).unwrap(), json!(sample.country.clone().unwrap_or_else(|| "US".into()))),
        10 => ("address.city".into(), *["starts_with", "eq", "not_exists"].choose(rng).unwrap(), json!(sample.city.clone().unwrap_or_default().chars().take(3).collect::<String>() + "a")),
        11 => ("metadata.source".into(), *["eq", "neq", "exists", "not_exists", "in"].choose(rng).unwrap(), json!(sample.metadata.get("source").cloned().unwrap_or_else(|| "web".into()))),
        12 => ("first_name".into(), *["eq", "contains", "neq"].choose(rng).unwrap(), json!(sample.first_name.clone().unwrap_or_default().to_lowercase())),
        _ => ("metadata.rep".into(), *["exists", "not_exists", "neq"].choose(rng).unwrap(), json!("mike_d")),
    };
    let value = match operator {
        _ if field == "activity" => Some(value),
        "exists" | "not_exists" => None,
        "in" | "not_in" => Some(json!([value])),
        "between" if field == "total_orders" || field == "rfm_monetary_score" => Some(json!([1, rng.random_range(1..6)])),
        _ => Some(value),
    };
    RawRule { field, operator: operator.into(), value }
}

fn random_group(rng: &mut StdRng, pool: &[Facts], depth: usize) -> RawGroup {
    let rules = (0..rng.random_range(1..4)).map(|_| random_rule(rng, pool)).collect();
    let groups = if depth < 2 && rng.random_bool(0.4) { (0..rng.random_range(1..3)).map(|_| random_group(rng, pool, depth + 1)).collect() } else { vec![] };
    RawGroup { match_: if rng.random_bool(0.5) { Match::All } else { Match::Any }, rules, groups }
}

/// Checks 300 generated rule trees: the SQL must select exactly what the evaluator selects.
async fn differential(customers: usize, seed: u64, expect_models: bool) {
    let app = TestApp::spawn().await;
    bulk::load(&mut connection().await, app.store, customers, Events::Natural, seed).await.unwrap();
    let refit = app.gql("mutation { refitMetricsModel { method } }", json!({})).await;
    assert_eq!(refit["data"]["refitMetricsModel"]["method"] == "MODEL", expect_models, "{refit}");
    let mut facts = facts(&app).await;
    let mut conn = connection().await;
    let days: Vec<(uuid::Uuid, i32, i64)> = diesel_async::RunQueryDsl::load(
        diesel::QueryDsl::select(
            diesel::QueryDsl::filter(whale_crm::db::schema::customers::table, diesel::ExpressionMethods::eq(whale_crm::db::schema::customers::store_id, app.store.0)),
            (whale_crm::db::schema::customers::id, whale_crm::db::schema::customers::order_days, whale_crm::db::schema::customers::first_day_spent),
        ),
        &mut conn,
    )
    .await
    .unwrap();
    for (id, order_days, first_day_spent) in days {
        let f = facts.get_mut(&whale_crm::domain::ids::CustomerId(id).to_string()).unwrap();
        f.order_days = order_days;
        f.first_day_spent = first_day_spent;
    }
    {
        use whale_crm::db::schema::activity_events as e;
        type Event = (uuid::Uuid, String, Option<String>, String, DateTime<Utc>);
        let events: Vec<Event> = diesel_async::RunQueryDsl::load(
            diesel::QueryDsl::select(
                diesel::QueryDsl::filter(e::table, diesel::ExpressionMethods::eq(e::store_id, app.store.0)),
                (e::customer_id, e::event_type, e::campaign_id, e::title, e::occurred_at),
            ),
            &mut conn,
        )
        .await
        .unwrap();
        for (customer, kind, campaign_id, title, occurred_at) in events {
            let kind = whale_crm::domain::activity::ActivityKind::from_stored(&kind).unwrap();
            let f = facts.get_mut(&whale_crm::domain::ids::CustomerId(customer).to_string()).unwrap();
            f.events.push(EventFacts { kind, campaign_id, title, occurred_at });
        }
    }
    let state = whale_crm::db::metrics::state(&mut conn, app.store).await.unwrap();
    let rules_context = state.rules_context();
    assert_eq!(rules_context.models.is_some(), expect_models);
    assert!(rules_context.breakpoints.is_some());
    let pool: Vec<Facts> = facts.values().cloned().collect();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut non_trivial = 0;
    for case in 0..300 {
        let raw = random_group(&mut rng, &pool, 0);
        let group = RuleGroup::parse("input", &raw).unwrap_or_else(|e| panic!("case {case}: generated an invalid rule: {e:?}"));
        let now = Utc::now();
        let expected: BTreeSet<String> = facts.iter().filter(|(_, f)| holds(&group, f, now, &rules_context)).map(|(id, _)| id.clone()).collect();
        let filter = CustomerFilter { segment: Some(Membership::Dynamic(group.clone(), rules_context.clone())), ..Default::default() };
        let rows = customer_list::page(&mut conn, app.store, &filter, SortKey::CreatedAt, Direction::Desc, None, 1000).await.unwrap();
        let actual: BTreeSet<String> = rows.iter().map(|r| r.customer_id().to_string()).collect();
        assert_eq!(actual, expected, "case {case}: {:#}", group.to_json());
        non_trivial += usize::from(!expected.is_empty() && expected.len() < facts.len());
    }
    assert!(non_trivial > 100, "only {non_trivial} cases split the store");
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_agrees_with_the_in_memory_evaluator_before_a_fit() {
    differential(120, 99, false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_agrees_with_the_in_memory_evaluator_with_fitted_models() {
    differential(450, 7, true).await;
}
