//! Notes: add (author from the argument or the key's name), edit, delete, newest-first pages.

use crate::helpers::*;
use serde_json::{Value, json};

const ADD: &str = "mutation($id: ID!, $body: String!, $author: String) {
  addCustomerNote(customerId: $id, body: $body, author: $author) { id customerId body author createdAt updatedAt }
}";
const NOTES: &str = "query($id: ID!, $first: Int, $after: String) {
  customer(id: $id) { notes(first: $first, after: $after) { nodes { id body } pageInfo { hasNextPage endCursor } } }
}";

#[tokio::test(flavor = "multi_thread")]
async fn notes_are_added_edited_deleted_and_listed_newest_first() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("n") })).await;
    let first = app.gql(ADD, json!({ "id": id, "body": "  Called about sizing.\nWill reorder.  " })).await;
    assert_no_errors(&first);
    let note = &first["data"]["addCustomerNote"];
    assert!(note["id"].as_str().unwrap().starts_with("note_"));
    assert_eq!(note["body"], "Called about sizing.\nWill reorder.");
    assert_eq!(note["author"], "test", "the key's name");
    assert_eq!(note["customerId"], id.as_str());
    let second = app.gql(ADD, json!({ "id": id, "body": "VIP from now on", "author": "Mike D" })).await;
    assert_eq!(second["data"]["addCustomerNote"]["author"], "Mike D");
    for i in 0..3 {
        app.gql(ADD, json!({ "id": id, "body": format!("note {i}") })).await;
    }
    let mut bodies = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app.gql(NOTES, json!({ "id": id, "first": 2, "after": after })).await;
        let notes = &page["data"]["customer"]["notes"];
        bodies.extend(notes["nodes"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_owned()));
        if notes["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = notes["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(bodies, ["note 2", "note 1", "note 0", "VIP from now on", "Called about sizing.\nWill reorder."]);

    let note_id = note["id"].as_str().unwrap();
    let edited = app.gql("mutation($id: ID!) { updateNote(id: $id, body: \"Edited\") { body updatedAt } }", json!({ "id": note_id })).await;
    assert_eq!(edited["data"]["updateNote"]["body"], "Edited");
    assert!(edited["data"]["updateNote"]["updatedAt"].as_str().unwrap() >= note["createdAt"].as_str().unwrap());
    let deleted = app.gql("mutation($id: ID!) { deleteNote(id: $id) { deletedNoteId } }", json!({ "id": note_id })).await;
    assert_eq!(deleted["data"]["deleteNote"]["deletedNoteId"], note_id);
    let again = app.gql("mutation($id: ID!) { deleteNote(id: $id) { deletedNoteId } }", json!({ "id": note_id })).await;
    assert_eq!(error_code(&again), "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread")]
async fn note_errors_and_isolation() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("ne") })).await;
    let empty = app.gql(ADD, json!({ "id": id, "body": "   " })).await;
    assert_eq!(error_code(&empty), "BAD_USER_INPUT");
    assert_eq!(error_path(&empty), "body");
    let long = app.gql(ADD, json!({ "id": id, "body": "x".repeat(10_001) })).await;
    assert_eq!(error_path(&long), "body");
    let long_author = app.gql(ADD, json!({ "id": id, "body": "ok", "author": "a".repeat(256) })).await;
    assert_eq!(error_path(&long_author), "author");
    let missing = format!("cust_{}", uuid::Uuid::now_v7().simple());
    let nobody = app.gql(ADD, json!({ "id": missing, "body": "hello" })).await;
    assert_eq!(error_code(&nobody), "NOT_FOUND");
    assert_eq!(error_path(&nobody), "customerId");

    let note = app.gql(ADD, json!({ "id": id, "body": "private" })).await;
    let note_id = note["data"]["addCustomerNote"]["id"].as_str().unwrap().to_owned();
    let (_, other_key) = new_store("other", false).await;
    let foreign_add = app.gql_as(&other_key, ADD, json!({ "id": id, "body": "sneaky" })).await;
    assert_eq!(error_code(&foreign_add), "NOT_FOUND");
    let foreign_edit = app.gql_as(&other_key, "mutation($id: ID!) { updateNote(id: $id, body: \"x\") { id } }", json!({ "id": note_id })).await;
    assert_eq!(error_code(&foreign_edit), "NOT_FOUND");
    let foreign_delete = app.gql_as(&other_key, "mutation($id: ID!) { deleteNote(id: $id) { deletedNoteId } }", json!({ "id": note_id })).await;
    assert_eq!(error_code(&foreign_delete), "NOT_FOUND");
    let bad_id = app.gql("mutation { deleteNote(id: \"cust_1\") { deletedNoteId } }", json!({})).await;
    assert_eq!(error_code(&bad_id), "BAD_USER_INPUT");
    let still = app.gql(NOTES, json!({ "id": id })).await;
    assert_eq!(still["data"]["customer"]["notes"]["nodes"][0]["body"], "private");
}
