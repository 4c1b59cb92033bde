//! createCustomer: normalisation, idempotency on email (also under races), every validation error.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn creates_a_customer_with_normalised_fields() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            CREATE,
            json!({ "input": {
                "email": "  Sarah.Chen@Example.com ",
                "firstName": " Sarah ",
                "lastName": "Chen",
                "phone": "020 7946 0958",
                "tags": ["retail", " newsletter", "retail"],
                "metadata": { "source": "trade_show", "rep": "mike_d" },
                "addresses": [
                    { "line1": "742 Evergreen Terrace", "city": "Springfield", "state": "IL", "postalCode": "62704", "country": "us" },
                    { "line1": "10 Downing St", "city": "London", "country": "GB", "phone": "020 7946 0958", "isDefault": true }
                ]
            }}),
        )
        .await;
    assert_no_errors(&body);
    let payload = &body["data"]["createCustomer"];
    assert_eq!(payload["created"], true);
    let c = &payload["customer"];
    assert!(c["id"].as_str().unwrap().starts_with("cust_"));
    assert_eq!(c["email"], "Sarah.Chen@Example.com");
    assert_eq!(c["firstName"], "Sarah");
    // National format read in the default address's country (GB), not the first address's.
    assert_eq!(c["phone"], "+442079460958");
    assert_eq!(c["tags"], json!(["retail", "newsletter"]));
    assert_eq!(c["metadata"], json!({ "source": "trade_show", "rep": "mike_d" }));
    assert_eq!(c["totalOrders"], 0);
    assert_eq!(c["totalSpent"], 0.0);
    assert_eq!(c["addresses"][0]["country"], "US");
    assert_eq!(c["addresses"][1]["phone"], "+442079460958");
    assert_eq!(c["defaultAddress"]["country"], "GB");
    let created_at = c["createdAt"].as_str().unwrap();
    assert!(created_at.ends_with('Z') && created_at.len() == 24, "RFC 3339 with milliseconds: {created_at}");
}

#[tokio::test(flavor = "multi_thread")]
async fn phone_is_normalised_with_the_default_country() {
    let app = TestApp::spawn().await;
    let input = json!({ "email": unique_email("p"), "phone": "415.555.2671", "addresses": [{ "city": "SF", "country": "US" }] });
    let body = app.gql(CREATE, json!({ "input": input })).await;
    assert_eq!(body["data"]["createCustomer"]["customer"]["phone"], "+14155552671");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_email_ignoring_case_returns_the_existing_customer_untouched() {
    let app = TestApp::spawn().await;
    let email = unique_email("dup");
    let first = app.gql(CREATE, json!({ "input": { "email": email, "firstName": "Original" } })).await;
    let id = first["data"]["createCustomer"]["customer"]["id"].clone();
    let again = app.gql(CREATE, json!({ "input": { "email": email.to_uppercase(), "firstName": "Changed", "tags": ["x"] } })).await;
    assert_no_errors(&again);
    let payload = &again["data"]["createCustomer"];
    assert_eq!(payload["created"], false);
    assert_eq!(payload["customer"]["id"], id);
    assert_eq!(payload["customer"]["firstName"], "Original");
    assert_eq!(payload["customer"]["email"], email);
    assert_eq!(payload["customer"]["tags"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_creates_of_one_email_make_one_customer() {
    let app = TestApp::spawn().await;
    let email = unique_email("race");
    let requests = (0..50).map(|i| {
        let variant = if i % 2 == 0 { email.clone() } else { email.to_uppercase() };
        app.gql(CREATE, json!({ "input": { "email": variant, "addresses": [{ "city": "Oslo", "country": "NO" }] } }))
    });
    let bodies: Vec<Value> = futures_util::future::join_all(requests).await;
    let mut ids = std::collections::HashSet::new();
    let mut created = 0;
    for body in &bodies {
        assert_no_errors(body);
        ids.insert(body["data"]["createCustomer"]["customer"]["id"].as_str().unwrap().to_owned());
        created += usize::from(body["data"]["createCustomer"]["created"] == true);
    }
    assert_eq!(ids.len(), 1, "one id for every response");
    assert_eq!(created, 1, "exactly one request created the customer");
    let count = app.gql("query($s: String) { customers(search: $s) { totalCount } }", json!({ "s": email })).await;
    assert_eq!(count["data"]["customers"]["totalCount"], 1);
    let addresses = app.gql("query($id: ID!) { customer(id: $id) { addresses { city } } }", json!({ "id": ids.iter().next() })).await;
    assert_eq!(addresses["data"]["customer"]["addresses"], json!([{ "city": "Oslo" }]), "addresses written once");
}

/// Each invalid input gets BAD_USER_INPUT at its path and writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn every_invalid_input_is_refused_at_its_path_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let many_tags: Vec<String> = (0..251).map(|i| format!("t{i}")).collect();
    let many_keys: serde_json::Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
    let address = json!({ "line1": "1 Main St", "country": "US" });
    let long_key_path = format!("input.metadata.{}", "k".repeat(41));
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "email": "not-an-email" }), "input.email"),
        (json!({ "email": "   " }), "input.email"),
        (json!({ "email": format!("{}@example.com", "a".repeat(250)) }), "input.email"),
        (json!({ "firstName": "x".repeat(256) }), "input.firstName"),
        (json!({ "lastName": "a\u{0007}b" }), "input.lastName"),
        (json!({ "phone": "call me maybe" }), "input.phone"),
        (json!({ "tags": ["ok", "  "] }), "input.tags.1"),
        (json!({ "tags": ["x".repeat(256)] }), "input.tags.0"),
        (json!({ "tags": many_tags }), "input.tags"),
        (json!({ "metadata": many_keys }), "input.metadata"),
        (json!({ "metadata": { "k".repeat(41): "v" } }), &long_key_path),
        (json!({ "metadata": { "note": "v".repeat(501) } }), "input.metadata.note"),
        (json!({ "metadata": { "nested": { "a": 1 } } }), "input.metadata.nested"),
        (json!({ "metadata": ["a"] }), "input.metadata"),
        (json!({ "addresses": [{ "line1": "1 Main St", "country": "USA" }] }), "input.addresses.0.country"),
        (json!({ "addresses": [{ "company": "Acme" }] }), "input.addresses.0"),
        (json!({ "addresses": [{ "city": "x".repeat(256) }] }), "input.addresses.0.city"),
        (json!({ "addresses": [{ "city": "A", "isDefault": true }, { "city": "B", "isDefault": true }] }), "input.addresses"),
        (json!({ "addresses": vec![address; 21] }), "input.addresses"),
    ];
    for (mut input, path) in cases {
        let email = unique_email("invalid");
        if input.get("email").is_none() {
            input["email"] = json!(email);
        }
        let body = app.gql(CREATE, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}");
        assert_eq!(error_path(&body), path, "{input}");
        assert!(body["data"].is_null(), "{body}");
        let lookup = app.gql("query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": email })).await;
        assert!(lookup["data"]["customerByEmail"].is_null(), "nothing written for {input}");
    }
    let total = app.gql("{ customers { totalCount } }", json!({})).await;
    assert_eq!(total["data"]["customers"]["totalCount"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_email_is_a_graphql_validation_error() {
    let app = TestApp::spawn().await;
    let body = app.gql(CREATE, json!({ "input": { "firstName": "NoEmail" } })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("email"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lookups_by_id_and_email() {
    let app = TestApp::spawn().await;
    let email = unique_email("Lookup");
    let id = app.create_customer(json!({ "email": email, "firstName": "Lou" })).await;
    let by_id = app.gql("query($id: ID!) { customer(id: $id) { email firstName } }", json!({ "id": id })).await;
    assert_eq!(by_id["data"]["customer"]["firstName"], "Lou");
    let by_email = app.gql("query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": email.to_lowercase() })).await;
    assert_eq!(by_email["data"]["customerByEmail"]["id"], id.as_str());
    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());
    let none = app.gql("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": missing })).await;
    assert_no_errors(&none);
    assert!(none["data"]["customer"].is_null());
    let malformed = app.gql("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": "42" })).await;
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
    assert_eq!(error_path(&malformed), "id");
}
