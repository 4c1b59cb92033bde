//! Believable customer histories for demo and benchmark data: buyers with their own purchase
//! rate and a time after which they stop buying (the behaviour the BTYD models describe), order
//! amounts around a personal mean, page views before purchases, campaign emails, occasional
//! support chats and staff notes.

use crate::domain::activity::{ActivityKind, NewActivity};
use crate::domain::money::Money;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use serde_json::json;

const PRODUCTS: &[&str] = &[
    "premium-leather-bag", "linen-shirt", "wool-scarf", "canvas-sneakers", "silk-tie", "denim-jacket", "travel-mug",
    "yoga-mat", "rain-jacket", "cashmere-sweater", "desk-lamp", "ceramic-vase",
];
const CAMPAIGNS: &[(&str, &str)] = &[
    ("camp_spring26", "Spring Collection Launch"),
    ("camp_summer26", "Summer Sale"),
    ("camp_bf25", "Black Friday Early Access"),
    ("camp_winback", "We Miss You"),
    ("camp_newsletter", "Monthly Newsletter"),
];
const REFERRERS: &[&str] = &["https://google.com", "https://instagram.com", "https://newsletter.whale.shop", "https://pinterest.com", "direct"];
const AGENTS: &[&str] = &["Whale Agent", "Ana R.", "Kenji T."];
const TOPICS: &[&str] = &["Sizing question", "Where is my order?", "Return request", "Discount code not working", "Gift wrapping"];
const NOTES: &[&str] = &[
    "Prefers email over phone. Asked to be told about restocks of the leather bag.",
    "Wholesale inquiry for 40 units; sent price list.",
    "Complained about late delivery in March; offered 10% off next order.",
    "VIP event invitee — met at the trade show.",
    "Allergic to wool: do not send wool samples.",
];

/// A note to attach: body, author, when.
pub struct SeedNote {
    pub body: String,
    pub author: String,
    pub at: DateTime<Utc>,
}

/// Exponentially distributed waiting time with the given mean, in days.
fn exp_days(rng: &mut StdRng, mean: f64) -> f64 {
    -mean * (1.0 - rng.random::<f64>()).ln()
}

/// A log-normal multiplier with median 1.
fn log_normal(rng: &mut StdRng, sigma: f64) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (sigma * z).exp()
}

fn at(start: DateTime<Utc>, days: f64) -> DateTime<Utc> {
    start + Duration::seconds((days * 86_400.0) as i64)
}

fn event(kind: ActivityKind, title: String, occurred_at: DateTime<Utc>) -> NewActivity {
    NewActivity {
        kind,
        title,
        occurred_at,
        amount: None,
        external_id: None,
        order_id: None,
        campaign_id: None,
        referrer: None,
        agent: None,
        properties: json!({}),
    }
}

fn order(rng: &mut StdRng, when: DateTime<Utc>, mean_spend: f64, number: &mut u32) -> NewActivity {
    *number += 1;
    let amount = (mean_spend * log_normal(rng, 0.35) * 100.0).round() / 100.0;
    let items = rng.random_range(1..4);
    let channel = ["web", "mobile", "pos"].choose(rng).copied();
    NewActivity {
        amount: Money::from_major(amount),
        order_id: Some(format!("{}", 1000 + *number)),
        properties: json!({ "items": items, "channel": channel }),
        ..event(ActivityKind::Order, format!("Order #{} placed", 1000 + *number), when)
    }
}

fn page_view(rng: &mut StdRng, when: DateTime<Utc>) -> NewActivity {
    let product = PRODUCTS.choose(rng).expect("products");
    NewActivity {
        referrer: REFERRERS.choose(rng).map(|r| r.to_string()),
        properties: json!({ "path": format!("/products/{product}") }),
        ..event(ActivityKind::PageView, format!("Viewed: /products/{product}"), when)
    }
}

/// A natural history for a customer created at `created`, up to `now`.
pub fn natural(rng: &mut StdRng, created: DateTime<Utc>, now: DateTime<Utc>, order_numbers: &mut u32) -> (Vec<NewActivity>, Vec<SeedNote>) {
    let mut events = Vec::new();
    let horizon = (now - created).num_seconds() as f64 / 86_400.0;
    if rng.random_bool(0.72) {
        let mean_gap = 20.0 + exp_days(rng, 60.0);
        let lifetime = exp_days(rng, 320.0);
        let mean_spend = 25.0 + 70.0 * log_normal(rng, 0.6);
        let mut day = exp_days(rng, 10.0);
        while day < horizon.min(lifetime + 1.0) {
            for _ in 0..rng.random_range(1..4) {
                let when = at(created, (day - rng.random::<f64>() * 0.2).max(0.0));
                events.push(page_view(rng, when));
            }
            let when = at(created, day);
            events.push(order(rng, when, mean_spend, order_numbers));
            if rng.random_bool(0.1) {
                let topic = TOPICS.choose(rng).expect("topics");
                let chat = event(ActivityKind::Support, format!("Chat: {topic}"), at(created, day + 1.0 + rng.random::<f64>() * 5.0));
                if chat.occurred_at < now {
                    events.push(NewActivity { agent: AGENTS.choose(rng).map(|a| a.to_string()), ..chat });
                }
            }
            day += exp_days(rng, mean_gap);
        }
    }
    let mut day = rng.random::<f64>() * 14.0;
    while day < horizon {
        if rng.random_bool(0.35) {
            let (id, name) = CAMPAIGNS.choose(rng).expect("campaigns");
            let opened = NewActivity { campaign_id: Some(id.to_string()), ..event(ActivityKind::Email, format!("Opened: {name}"), at(created, day)) };
            events.push(opened);
        }
        day += 14.0;
    }
    for _ in 0..rng.random_range(0..4) {
        let when = at(created, rng.random::<f64>() * horizon);
        events.push(page_view(rng, when));
    }
    if rng.random_bool(0.05) {
        let custom = event(ActivityKind::Custom, "Joined loyalty programme".into(), at(created, rng.random::<f64>() * horizon));
        events.push(NewActivity { amount: Some(Money(0)), ..custom });
    }
    events.retain(|e| e.occurred_at <= now);
    events.sort_by_key(|e| e.occurred_at);
    let notes = (0..usize::from(rng.random_bool(0.2)) * rng.random_range(1..3))
        .map(|_| SeedNote {
            body: NOTES.choose(rng).expect("notes").to_string(),
            author: ["mike_d", "ana_r", "kenji_t"].choose(rng).expect("authors").to_string(),
            at: at(created, rng.random::<f64>() * horizon),
        })
        .collect();
    (events, notes)
}

/// Exactly `n` events spread over the customer's life, with a realistic mix of types.
pub fn exactly(rng: &mut StdRng, n: usize, created: DateTime<Utc>, now: DateTime<Utc>, order_numbers: &mut u32) -> Vec<NewActivity> {
    let horizon = (now - created).num_seconds() as f64 / 86_400.0;
    let mean_spend = 25.0 + 70.0 * log_normal(rng, 0.6);
    let mut events: Vec<NewActivity> = (0..n)
        .map(|_| {
            let when = at(created, rng.random::<f64>() * horizon);
            match rng.random_range(0..100) {
                0..15 => order(rng, when, mean_spend, order_numbers),
                15..50 => {
                    let (id, name) = CAMPAIGNS.choose(rng).expect("campaigns");
                    NewActivity { campaign_id: Some(id.to_string()), ..event(ActivityKind::Email, format!("Opened: {name}"), when) }
                }
                50..92 => page_view(rng, when),
                92..97 => {
                    let topic = TOPICS.choose(rng).expect("topics");
                    NewActivity { agent: AGENTS.choose(rng).map(|a| a.to_string()), ..event(ActivityKind::Support, format!("Chat: {topic}"), when) }
                }
                _ => event(ActivityKind::Custom, "Wishlist updated".into(), when),
            }
        })
        .collect();
    events.sort_by_key(|e| e.occurred_at);
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn natural_histories_are_ordered_valid_and_varied() {
        let mut rng = StdRng::seed_from_u64(7);
        let now = Utc::now();
        let mut numbers = 0;
        let mut buyers = 0;
        let mut repeat_buyers = 0;
        for _ in 0..300 {
            let created = now - Duration::days(rng.random_range(1..730));
            let (events, _) = natural(&mut rng, created, now, &mut numbers);
            assert!(events.windows(2).all(|w| w[0].occurred_at <= w[1].occurred_at));
            assert!(events.iter().all(|e| e.occurred_at <= now && e.occurred_at >= created));
            let orders = events.iter().filter(|e| e.kind == ActivityKind::Order).count();
            buyers += usize::from(orders > 0);
            repeat_buyers += usize::from(orders > 1);
            assert!(events.iter().filter(|e| e.kind == ActivityKind::Order).all(|e| e.amount.is_some_and(|a| a.0 > 0)));
        }
        assert!((150..280).contains(&buyers), "{buyers} buyers");
        assert!(repeat_buyers > 60, "{repeat_buyers} repeat buyers");
    }

    #[test]
    fn exactly_gives_the_asked_count() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = Utc::now();
        let events = exactly(&mut rng, 20, now - Duration::days(400), now, &mut 0);
        assert_eq!(events.len(), 20);
    }
}
