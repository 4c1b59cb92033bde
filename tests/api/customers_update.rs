//! updateCustomer and deleteCustomer: partial updates, tags, metadata merge, conflicts, atomicity.

use crate::helpers::*;
use serde_json::json;

const UPDATE: &str = "mutation($id: ID!, $input: CustomerUpdateInput!) {
  updateCustomer(id: $id, input: $input) {
    customer { id email firstName lastName phone tags metadata updatedAt addresses { city country isDefault } }
  }
}";

#[tokio::test(flavor = "multi_thread")]
async fn partial_update_keeps_absent_fields_and_clears_nulls() {
    let app = TestApp::spawn().await;
    let id = app
        .create_customer(json!({ "email": unique_email("u"), "firstName": "Ann", "lastName": "Lee", "phone": "+14155552671",
                                 "tags": ["retail", "newsletter"], "metadata": { "source": "web", "rep": "mike_d" } }))
        .await;
    let body = app
        .gql(UPDATE, json!({ "id": id, "input": { "lastName": null, "firstName": "Anne", "metadata": { "rep": null, "tier": "gold" } } }))
        .await;
    assert_no_errors(&body);
    let c = &body["data"]["updateCustomer"]["customer"];
    assert_eq!(c["firstName"], "Anne");
    assert!(c["lastName"].is_null());
    assert_eq!(c["phone"], "+14155552671", "absent fields are kept");
    assert_eq!(c["tags"], json!(["retail", "newsletter"]));
    assert_eq!(c["metadata"], json!({ "source": "web", "tier": "gold" }));
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_can_be_replaced_added_and_removed() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("t"), "tags": ["a", "b"] })).await;
    let added = app.gql(UPDATE, json!({ "id": id, "input": { "addTags": ["c", "a"], "removeTags": ["b"] } })).await;
    assert_eq!(added["data"]["updateCustomer"]["customer"]["tags"], json!(["a", "c"]));
    let replaced = app.gql(UPDATE, json!({ "id": id, "input": { "tags": ["z"] } })).await;
    assert_eq!(replaced["data"]["updateCustomer"]["customer"]["tags"], json!(["z"]));
    let both = app.gql(UPDATE, json!({ "id": id, "input": { "tags": ["y"], "addTags": ["x"] } })).await;
    assert_eq!(error_code(&both), "BAD_USER_INPUT");
    assert_eq!(error_path(&both), "input.tags");
}

#[tokio::test(flavor = "multi_thread")]
async fn adding_tags_past_the_limit_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let tags: Vec<String> = (0..250).map(|i| format!("t{i}")).collect();
    let id = app.create_customer(json!({ "email": unique_email("lim"), "tags": tags, "firstName": "Before" })).await;
    let body = app.gql(UPDATE, json!({ "id": id, "input": { "firstName": "After", "addTags": ["one-more"] } })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_path(&body), "input.addTags");
    let after = app.gql("query($id: ID!) { customer(id: $id) { firstName tags } }", json!({ "id": id })).await;
    assert_eq!(after["data"]["customer"]["firstName"], "Before");
    assert_eq!(after["data"]["customer"]["tags"].as_array().unwrap().len(), 250);
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_merge_is_limited_to_fifty_keys() {
    let app = TestApp::spawn().await;
    let full: serde_json::Map<String, serde_json::Value> = (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
    let id = app.create_customer(json!({ "email": unique_email("m"), "metadata": full })).await;
    let over = app.gql(UPDATE, json!({ "id": id, "input": { "metadata": { "k50": "v" } } })).await;
    assert_eq!(error_code(&over), "BAD_USER_INPUT");
    assert_eq!(error_path(&over), "input.metadata");
    let swap = app.gql(UPDATE, json!({ "id": id, "input": { "metadata": { "k0": null, "k50": "v" } } })).await;
    assert_no_errors(&swap);
    let m = swap["data"]["updateCustomer"]["customer"]["metadata"].as_object().unwrap().clone();
    assert_eq!(m.len(), 50);
    assert!(m.contains_key("k50") && !m.contains_key("k0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_email_to_another_customers_is_a_conflict() {
    let app = TestApp::spawn().await;
    let taken = unique_email("taken");
    app.create_customer(json!({ "email": taken })).await;
    let own = unique_email("own");
    let id = app.create_customer(json!({ "email": own, "firstName": "Keep" })).await;
    let body = app.gql(UPDATE, json!({ "id": id, "input": { "email": taken.to_uppercase(), "firstName": "Lost" } })).await;
    assert_eq!(error_code(&body), "CONFLICT");
    assert_eq!(error_path(&body), "input.email");
    let after = app.gql("query($id: ID!) { customer(id: $id) { email firstName } }", json!({ "id": id })).await;
    assert_eq!(after["data"]["customer"]["email"], own.as_str());
    assert_eq!(after["data"]["customer"]["firstName"], "Keep");
    let own_case = app.gql(UPDATE, json!({ "id": id, "input": { "email": own.to_uppercase() } })).await;
    assert_no_errors(&own_case);
    assert_eq!(own_case["data"]["updateCustomer"]["customer"]["email"], own.to_uppercase());
}

#[tokio::test(flavor = "multi_thread")]
async fn update_validation_errors() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("v") })).await;
    let cases = [
        (json!({ "email": null }), "input.email"),
        (json!({ "email": "nope" }), "input.email"),
        (json!({ "firstName": "x".repeat(256) }), "input.firstName"),
        (json!({ "phone": "12" }), "input.phone"),
        (json!({ "addTags": [""] }), "input.addTags.0"),
        (json!({ "metadata": { "k": ["list"] } }), "input.metadata.k"),
        (json!({ "addresses": [{ "country": "XX" }] }), "input.addresses.0.country"),
    ];
    for (input, path) in cases {
        let body = app.gql(UPDATE, json!({ "id": id, "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}");
        assert_eq!(error_path(&body), path, "{input}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_are_replaced_and_phone_reads_in_the_stored_default_country() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("a"), "addresses": [{ "city": "Paris", "country": "FR" }] })).await;
    let phone = app.gql(UPDATE, json!({ "id": id, "input": { "phone": "01 42 68 53 00" } })).await;
    assert_eq!(phone["data"]["updateCustomer"]["customer"]["phone"], "+33142685300");
    let moved = app
        .gql(UPDATE, json!({ "id": id, "input": { "addresses": [{ "city": "Lyon", "country": "FR" }, { "city": "Rome", "country": "IT", "isDefault": true }] } }))
        .await;
    assert_eq!(
        moved["data"]["updateCustomer"]["customer"]["addresses"],
        json!([{ "city": "Lyon", "country": "FR", "isDefault": false }, { "city": "Rome", "country": "IT", "isDefault": true }])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn updated_at_moves_forward() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("ts") })).await;
    let before = app.gql("query($id: ID!) { customer(id: $id) { updatedAt } }", json!({ "id": id })).await;
    let after = app.gql(UPDATE, json!({ "id": id, "input": { "firstName": "New" } })).await;
    let (b, a) = (before["data"]["customer"]["updatedAt"].as_str().unwrap(), after["data"]["updateCustomer"]["customer"]["updatedAt"].as_str().unwrap());
    assert!(a > b, "{a} > {b}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_removes_the_customer_and_its_addresses() {
    let app = TestApp::spawn().await;
    let email = unique_email("del");
    let id = app.create_customer(json!({ "email": email, "addresses": [{ "city": "Oslo", "country": "NO" }] })).await;
    let deleted = app.gql("mutation($id: ID!) { deleteCustomer(id: $id) { deletedCustomerId } }", json!({ "id": id })).await;
    assert_eq!(deleted["data"]["deleteCustomer"]["deletedCustomerId"], id.as_str());
    let gone = app.gql("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": id })).await;
    assert!(gone["data"]["customer"].is_null());
    let again = app.gql("mutation($id: ID!) { deleteCustomer(id: $id) { deletedCustomerId } }", json!({ "id": id })).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
    let recreated = app.gql(CREATE, json!({ "input": { "email": email } })).await;
    assert_eq!(recreated["data"]["createCustomer"]["created"], true, "the email is free again");
    assert_eq!(recreated["data"]["createCustomer"]["customer"]["addresses"], json!([]));
}
