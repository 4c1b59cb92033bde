//! The customers of the product page's examples, for the demo store: John Rivera
//! (`john@acmecorp.com`, tags vip and wholesale, 47 orders for $12,840.00, the page's four
//! recent events) and Sarah Chen (`sarah.chen@example.com`, retail and newsletter, the
//! Springfield address), with the page's two segments ("High-Value Churning", dynamic, and "VIP
//! Invite List", static, holding both). Written through the same data functions as the API, so
//! totals, enrichment and metrics come out as they would. Times are relative to `now`, so the
//! README's examples (`search: "john@"`, `createdAfter: "2026-01-01"`) find them.

use crate::db::schema::customers;
use crate::db::{activity, customers as customer_rows, segments};
use crate::domain::activity::{ActivityKind, NewActivity, RawActivity};
use crate::domain::address::RawAddress;
use crate::domain::customer::{NewCustomer, RawNewCustomer};
use crate::domain::ids::{CustomerId, StoreId};
use crate::domain::segment::rules::{RawGroup, RawRule};
use crate::domain::segment::{Match, RuleGroup};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::json;

/// John Rivera's orders: 45 of $272.00, one of $311.00 and the page's "Order #1047" of $289.00.
const ORDERS: usize = 47;

fn customer(raw: &RawNewCustomer) -> anyhow::Result<NewCustomer> {
    NewCustomer::parse(raw).map_err(|e| anyhow::anyhow!("showcase customer {}: {e:?}", raw.email))
}

fn event(kind: ActivityKind, title: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> RawActivity {
    RawActivity { occurred_at: Some(at.min(now)), ..RawActivity::titled(kind, title) }
}

/// John Rivera's history: orders evenly from `first_order` to eight days ago, the last one
/// ("Order #1047") yesterday, and the page's support chat, page view and email between those two.
fn john_history(first_order: DateTime<Utc>, now: DateTime<Utc>) -> Vec<RawActivity> {
    let step = (now - Duration::days(8) - first_order) / (ORDERS as i32 - 2);
    let mut events: Vec<RawActivity> = (0..ORDERS)
        .map(|i| {
            let number = 1001 + i;
            let at = if i + 1 == ORDERS { now - Duration::days(1) } else { first_order + step * i as i32 };
            let mut order = event(ActivityKind::Order, &format!("Order #{number} placed"), at, now);
            order.amount = Some(match i {
                46 => 289.0,
                45 => 311.0,
                _ => 272.0,
            });
            order.order_id = Some(number.to_string());
            order.external_id = Some(format!("order-{number}"));
            order
        })
        .collect();
    let mut email = event(ActivityKind::Email, "Opened: Spring Collection Launch", now - Duration::days(3), now);
    email.campaign_id = Some("camp_x1y2z3".into());
    let mut view = event(ActivityKind::PageView, "Viewed: /products/premium-leather-bag", now - Duration::days(4), now);
    view.referrer = Some("https://google.com".into());
    let mut chat = event(ActivityKind::Support, "Chat: Sizing question", now - Duration::days(6), now);
    chat.agent = Some("Whale Agent".into());
    events.extend([chat, view, email]);
    events
}

/// `AppError` is not `Display` (see `error`), so a seed failure carries its `Debug` form.
fn failed(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("showcase: {e:?}")
}

fn rule(field: &str, operator: &str, value: serde_json::Value) -> RawRule {
    RawRule { field: field.into(), operator: operator.into(), value: Some(value) }
}

/// Loads the showcase customers and segments into `store`; returns John's and Sarah's ids.
pub async fn load(conn: &mut AsyncPgConnection, store: StoreId, now: DateTime<Utc>) -> anyhow::Result<(CustomerId, CustomerId)> {
    let john = customer(&RawNewCustomer {
        email: "john@acmecorp.com".into(),
        first_name: Some("John".into()),
        last_name: Some("Rivera".into()),
        phone: Some("+1-555-0142".into()),
        tags: vec!["vip".into(), "wholesale".into()],
        metadata: Some(json!({ "source": "referral", "rep": "mike_d" })),
        addresses: vec![RawAddress {
            first_name: Some("John".into()),
            last_name: Some("Rivera".into()),
            company: Some("Acme Corp".into()),
            line1: Some("350 Fifth Avenue".into()),
            city: Some("New York".into()),
            state: Some("NY".into()),
            postal_code: Some("10118".into()),
            country: Some("US".into()),
            ..Default::default()
        }],
    })?;
    let sarah = customer(&RawNewCustomer {
        email: "sarah.chen@example.com".into(),
        first_name: Some("Sarah".into()),
        last_name: Some("Chen".into()),
        phone: Some("(217) 555-0198".into()),
        tags: vec!["retail".into(), "newsletter".into()],
        metadata: Some(json!({ "source": "trade_show", "rep": "mike_d" })),
        addresses: vec![RawAddress {
            line1: Some("742 Evergreen Terrace".into()),
            city: Some("Springfield".into()),
            state: Some("IL".into()),
            postal_code: Some("62704".into()),
            country: Some("US".into()),
            ..Default::default()
        }],
    })?;
    let (john_row, _) = customer_rows::create(conn, store, &john).await.map_err(failed)?;
    let (sarah_row, _) = customer_rows::create(conn, store, &sarah).await.map_err(failed)?;
    let (john_id, sarah_id) = (CustomerId(john_row.id), CustomerId(sarah_row.id));
    // John has been a customer for 170 days, Sarah for 2 (both after 2026-01-01 in the README)
    for (id, age) in [(john_id, 170), (sarah_id, 2)] {
        diesel::update(customers::table.filter(customers::store_id.eq(store.0)).filter(customers::id.eq(id.0)))
            .set(customers::created_at.eq(now - Duration::days(age)))
            .execute(conn)
            .await?;
    }
    let history = john_history(now - Duration::days(165), now);
    let parsed: Vec<NewActivity> = history
        .iter()
        .map(|raw| NewActivity::parse(raw, now).map_err(|e| anyhow::anyhow!("showcase event {}: {e:?}", raw.title)))
        .collect::<anyhow::Result<_>>()?;
    let batch: Vec<activity::Recording<'_>> = parsed
        .iter()
        .enumerate()
        .map(|(i, event)| activity::Recording { customer: john_id, event, customer_path: format!("events.{i}.customerId"), event_path: format!("events.{i}.event") })
        .collect();
    activity::record(conn, store, &batch).await.map_err(failed)?;
    let churning = RuleGroup::parse(
        "input",
        &RawGroup {
            match_: Match::All,
            rules: vec![
                rule("total_spent", "gte", json!(500)),
                rule("last_order_at", "before", json!("90_days_ago")),
                rule("churn_risk", "gte", json!(0.6)),
            ],
            groups: vec![],
        },
    )
    .map_err(|e| anyhow::anyhow!("showcase segment: {e:?}"))?;
    segments::create(conn, store, "High-Value Churning", Some(&churning), &[]).await.map_err(failed)?;
    segments::create(conn, store, "VIP Invite List", None, &[john_id, sarah_id]).await.map_err(failed)?;
    Ok((john_id, sarah_id))
}
