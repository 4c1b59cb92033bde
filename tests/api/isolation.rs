//! Tenancy: another store's customers behave exactly like customers that do not exist.

use crate::helpers::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn another_stores_customer_is_invisible_to_every_operation() {
    let app = TestApp::spawn().await;
    let (_, other_key) = new_store("other store", false).await;
    let email = unique_email("mine");
    let id = app.create_customer(json!({ "email": email, "firstName": "Mine", "tags": ["secret"], "phone": "+14155552671" })).await;
    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());

    for probe in [id.as_str(), missing.as_str()] {
        let read = app.gql_as(&other_key, "query($id: ID!) { customer(id: $id) { id } }", json!({ "id": probe })).await;
        assert_no_errors(&read);
        assert!(read["data"]["customer"].is_null());
        let update = app
            .gql_as(&other_key, "mutation($id: ID!) { updateCustomer(id: $id, input: { firstName: \"Stolen\" }) { customer { id } } }", json!({ "id": probe }))
            .await;
        assert_eq!(error_code(&update), "NOT_FOUND");
        assert_eq!(update["errors"][0]["message"], format!("No customer with id `{probe}`"));
        let delete = app.gql_as(&other_key, "mutation($id: ID!) { deleteCustomer(id: $id) { deletedCustomerId } }", json!({ "id": probe })).await;
        assert_eq!(error_code(&delete), "NOT_FOUND");
        assert_eq!(delete["errors"][0]["message"], format!("No customer with id `{probe}`"));
    }
    let by_email = app.gql_as(&other_key, "query($e: String!) { customerByEmail(email: $e) { id } }", json!({ "e": email })).await;
    assert!(by_email["data"]["customerByEmail"].is_null());
    for search in [email.as_str(), "Mine", "4155552671"] {
        let list = app.gql_as(&other_key, "query($s: String) { customers(search: $s) { totalCount nodes { id } } }", json!({ "s": search })).await;
        assert_eq!(list["data"]["customers"]["totalCount"], 0, "{search}");
    }
    let tagged = app.gql_as(&other_key, "{ customers(tags: [\"secret\"]) { totalCount } }", json!({})).await;
    assert_eq!(tagged["data"]["customers"]["totalCount"], 0);

    // The same email is a different customer in the other store.
    let theirs = app.gql_as(&other_key, CREATE, json!({ "input": { "email": email } })).await;
    assert_eq!(theirs["data"]["createCustomer"]["created"], true);
    assert_ne!(theirs["data"]["createCustomer"]["customer"]["id"], id.as_str());

    // And the owner still sees its customer unchanged.
    let mine = app.gql("query($id: ID!) { customer(id: $id) { firstName } }", json!({ "id": id })).await;
    assert_eq!(mine["data"]["customer"]["firstName"], "Mine");
}

#[tokio::test(flavor = "multi_thread")]
async fn cursors_from_another_store_reveal_nothing() {
    let app = TestApp::spawn().await;
    let (_, other_key) = new_store("other store", false).await;
    for i in 0..3 {
        app.create_customer(json!({ "email": format!("s{i}@mine.com") })).await;
    }
    let page = app.gql("{ customers(first: 1) { pageInfo { endCursor } } }", json!({})).await;
    let cursor = page["data"]["customers"]["pageInfo"]["endCursor"].clone();
    let theirs = app.gql_as(&other_key, "query($a: String) { customers(after: $a) { nodes { email } } }", json!({ "a": cursor })).await;
    assert_no_errors(&theirs);
    assert_eq!(theirs["data"]["customers"]["nodes"], json!([]));
}
