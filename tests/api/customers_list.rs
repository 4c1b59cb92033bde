//! customers(...): search, filters, every sort both ways with nulls last, keyset cursors that
//! visit every customer once while rows are inserted, and totalCount.

use crate::helpers::*;
use serde_json::{Value, json};

const LIST: &str = "query($search: String, $tags: [String!], $anyTags: [String!], $after: String, $first: Int,
                          $sort: CustomerSortKey, $order: SortOrder, $metadata: JSON, $createdAfter: DateTime, $createdBefore: DateTime) {
  customers(search: $search, tags: $tags, anyTags: $anyTags, after: $after, first: $first, sort: $sort, order: $order,
            metadata: $metadata, createdAfter: $createdAfter, createdBefore: $createdBefore) {
    edges { cursor node { id email createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

async fn emails(app: &TestApp, vars: Value) -> Vec<String> {
    let body = app.gql(LIST, vars).await;
    assert_no_errors(&body);
    body["data"]["customers"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["email"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn search_matches_email_fragments_names_and_phone_digits() {
    let app = TestApp::spawn().await;
    app.create_customer(json!({ "email": "john@acmecorp.com", "firstName": "John", "lastName": "Rivera", "phone": "+1 (415) 555-2671" })).await;
    app.create_customer(json!({ "email": "sarah.chen@example.com", "firstName": "Sarah", "lastName": "Chen", "phone": "020 7946 0958",
                                "addresses": [{ "city": "London", "country": "GB" }] })).await;
    app.create_customer(json!({ "email": "johnny.b@goode.io", "firstName": "Chuck" })).await;
    let search = |s: &str| emails(&app, json!({ "search": s, "sort": "EMAIL", "order": "ASC" }));
    assert_eq!(search("john@").await, ["john@acmecorp.com"]);
    assert_eq!(search("JOHN").await, ["john@acmecorp.com", "johnny.b@goode.io"]);
    assert_eq!(search("john rivera").await, ["john@acmecorp.com"]);
    assert_eq!(search("chen").await, ["sarah.chen@example.com"]);
    assert_eq!(search("415-555-2671").await, ["john@acmecorp.com"]);
    assert_eq!(search("(415) 555 2671").await, ["john@acmecorp.com"]);
    assert_eq!(search("5552671").await, ["john@acmecorp.com"]);
    assert_eq!(search("+44 20 7946 0958").await, ["sarah.chen@example.com"]);
    assert_eq!(search("7946").await, ["sarah.chen@example.com"]);
    assert!(search("nobody").await.is_empty());
    assert!(search("%").await.is_empty(), "LIKE wildcards match literally");
    assert!(search("_").await.is_empty(), "LIKE wildcards match literally");
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_combine_with_and() {
    let app = TestApp::spawn().await;
    app.create_customer(json!({ "email": "a@x.com", "tags": ["vip", "wholesale"], "metadata": { "source": "trade_show" } })).await;
    app.create_customer(json!({ "email": "b@x.com", "tags": ["vip"], "metadata": { "source": "web" } })).await;
    app.create_customer(json!({ "email": "c@x.com", "tags": ["retail"], "metadata": { "source": "trade_show", "rep": "mike_d" } })).await;
    let q = |v: Value| {
        let mut v = v;
        v["sort"] = json!("EMAIL");
        v["order"] = json!("ASC");
        emails(&app, v)
    };
    assert_eq!(q(json!({ "tags": ["vip", "wholesale"] })).await, ["a@x.com"]);
    assert_eq!(q(json!({ "anyTags": ["wholesale", "retail"] })).await, ["a@x.com", "c@x.com"]);
    assert_eq!(q(json!({ "metadata": { "source": "trade_show" } })).await, ["a@x.com", "c@x.com"]);
    assert_eq!(q(json!({ "metadata": { "source": "trade_show" }, "tags": ["vip"] })).await, ["a@x.com"]);
    assert_eq!(q(json!({ "search": "x.com", "anyTags": ["vip"], "tags": ["wholesale"] })).await, ["a@x.com"]);
    let bad = app.gql(LIST, json!({ "metadata": { "source": null } })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(error_path(&bad), "metadata.source");
    let bad_tag = app.gql(LIST, json!({ "tags": ["ok", ""] })).await;
    assert_eq!(error_path(&bad_tag), "tags.1");
}

#[tokio::test(flavor = "multi_thread")]
async fn created_after_and_before_are_strict() {
    let app = TestApp::spawn().await;
    for email in ["one@t.com", "two@t.com", "three@t.com"] {
        app.create_customer(json!({ "email": email })).await;
    }
    let all = app.gql(LIST, json!({ "order": "ASC", "sort": "CREATED_AT" })).await;
    let times: Vec<String> = all["data"]["customers"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["createdAt"].as_str().unwrap().to_owned()).collect();
    execute_sql(&format!(
        "UPDATE customers SET created_at = CASE email WHEN 'one@t.com' THEN '2026-01-01T00:00:00Z'::timestamptz \
         WHEN 'two@t.com' THEN '2026-02-01T00:00:00Z' ELSE '2026-03-01T00:00:00Z' END WHERE store_id = '{}'",
        app.store.0
    ))
    .await;
    assert_eq!(times.len(), 3);
    assert_eq!(emails(&app, json!({ "createdAfter": "2026-01-01", "order": "ASC" })).await, ["two@t.com", "three@t.com"]);
    assert_eq!(emails(&app, json!({ "createdBefore": "2026-03-01T00:00:00.000Z", "order": "ASC" })).await, ["one@t.com", "two@t.com"]);
    assert_eq!(emails(&app, json!({ "createdAfter": "2026-01-15", "createdBefore": "2026-02-15" })).await, ["two@t.com"]);
    let bad = app.gql(LIST, json!({ "createdAfter": "last tuesday" })).await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
}

/// Customers with distinct totals, some ties, and some without orders.
async fn seed_sortable(app: &TestApp) {
    let rows = [
        ("c1@s.com", Some(("2026-03-01", 500, 5))),
        ("c2@s.com", None),
        ("C3@s.com", Some(("2026-01-01", 100, 1))),
        ("c4@s.com", Some(("2026-03-01", 100, 5))),
        ("c5@s.com", None),
        ("c6@s.com", Some(("2025-12-01", 900, 2))),
    ];
    for (email, totals) in rows {
        app.create_customer(json!({ "email": email })).await;
        if let Some((last, spent, orders)) = totals {
            execute_sql(&format!(
                "UPDATE customers SET last_order_at = '{last}T12:00:00Z', first_order_at = '2025-01-01T00:00:00Z', total_spent = {spent}00, \
                 total_orders = {orders} WHERE store_id = '{}' AND email = '{email}'",
                app.store.0
            ))
            .await;
        }
    }
}

/// The expected order: by `key` in `order` (nulls last), ties by id in the same direction.
fn expected(rows: &[Value], key: &str, desc: bool) -> Vec<String> {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| {
        let (va, vb) = (&a[key], &b[key]);
        let by_value = match (va.is_null(), vb.is_null()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => return std::cmp::Ordering::Greater,
            (false, true) => return std::cmp::Ordering::Less,
            _ => {
                let o = if let (Some(x), Some(y)) = (va.as_f64(), vb.as_f64()) {
                    x.partial_cmp(&y).unwrap()
                } else {
                    va.as_str().unwrap().to_lowercase().cmp(&vb.as_str().unwrap().to_lowercase())
                };
                if desc { o.reverse() } else { o }
            }
        };
        let by_id = a["id"].as_str().cmp(&b["id"].as_str());
        by_value.then(if desc { by_id.reverse() } else { by_id })
    });
    rows.iter().map(|r| r["email"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_sort_in_both_orders_with_nulls_last_paged_two_at_a_time() {
    let app = TestApp::spawn().await;
    seed_sortable(&app).await;
    let all = app.gql("{ customers(first: 250) { nodes { id email createdAt updatedAt lastOrderAt totalSpent totalOrders } } }", json!({})).await;
    let rows = all["data"]["customers"]["nodes"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 6);
    let sorts = [
        ("CREATED_AT", "createdAt"),
        ("UPDATED_AT", "updatedAt"),
        ("LAST_ORDER_AT", "lastOrderAt"),
        ("TOTAL_SPENT", "totalSpent"),
        ("TOTAL_ORDERS", "totalOrders"),
        ("EMAIL", "email"),
    ];
    for (sort, field) in sorts {
        for order in ["ASC", "DESC"] {
            let mut seen = Vec::new();
            let mut after = Value::Null;
            loop {
                let body = app.gql(LIST, json!({ "sort": sort, "order": order, "first": 2, "after": after })).await;
                assert_no_errors(&body);
                let page = &body["data"]["customers"];
                seen.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"]["email"].as_str().unwrap().to_owned()));
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = page["pageInfo"]["endCursor"].clone();
            }
            assert_eq!(seen, expected(&rows, field, order == "DESC"), "{sort} {order}");
        }
    }
    let nulls_last = emails(&app, json!({ "sort": "LAST_ORDER_AT", "order": "ASC" })).await;
    assert!(nulls_last[4..].iter().all(|e| e == "c2@s.com" || e == "c5@s.com"), "{nulls_last:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keyset_pages_visit_every_customer_once_while_rows_are_inserted() {
    let app = TestApp::spawn().await;
    for i in 0..23 {
        app.create_customer(json!({ "email": format!("k{i:02}@page.com"), "tags": ["paged"] })).await;
    }
    for order in ["ASC", "DESC"] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        let mut pages = 0;
        loop {
            let body = app.gql(LIST, json!({ "tags": ["paged"], "first": 5, "after": after, "order": order })).await;
            assert_no_errors(&body);
            let page = &body["data"]["customers"];
            assert_eq!(page["pageInfo"]["hasPreviousPage"], pages > 0);
            seen.extend(page["edges"].as_array().unwrap().iter().map(|e| e["node"]["email"].as_str().unwrap().to_owned()));
            // A new customer arrives between pages: it sorts first (DESC) or last (ASC).
            app.create_customer(json!({ "email": unique_email(&format!("new{order}{pages}")) })).await;
            pages += 1;
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "no customer twice ({order})");
        assert_eq!(seen.len(), 23, "every tagged customer once ({order})");
        assert_eq!(pages, 5);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn total_count_and_empty_pages() {
    let app = TestApp::spawn().await;
    for i in 0..3 {
        app.create_customer(json!({ "email": format!("n{i}@count.com") })).await;
    }
    let body = app.gql("{ customers(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }", json!({})).await;
    assert_eq!(body["data"]["customers"], json!({ "totalCount": 3, "edges": [], "pageInfo": { "hasNextPage": true, "endCursor": null } }));
    let body = app.gql("{ customers(search: \"n1@\") { totalCount } }", json!({})).await;
    assert_eq!(body["data"]["customers"]["totalCount"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_cursors_and_page_sizes_are_refused() {
    let app = TestApp::spawn().await;
    app.create_customer(json!({ "email": unique_email("c") })).await;
    let page = app.gql(LIST, json!({ "first": 1, "sort": "EMAIL" })).await;
    let cursor = page["data"]["customers"]["pageInfo"]["endCursor"].clone();
    let other_sort = app.gql(LIST, json!({ "after": cursor, "sort": "TOTAL_SPENT" })).await;
    assert_eq!(error_code(&other_sort), "BAD_USER_INPUT");
    assert_eq!(error_path(&other_sort), "after");
    let garbage = app.gql(LIST, json!({ "after": "bm90IGEgY3Vyc29y" })).await;
    assert_eq!(error_path(&garbage), "after");
    for first in [251, -1] {
        let body = app.gql(LIST, json!({ "first": first })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT");
        assert_eq!(error_path(&body), "first");
    }
    let long = app.gql(LIST, json!({ "search": "x".repeat(256) })).await;
    assert_eq!(error_path(&long), "search");
}
