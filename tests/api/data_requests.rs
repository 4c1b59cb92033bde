//! GDPR/CCPA data requests: erasure end to end (checked against a full `pg_dump`), one open
//! request per type, validation, read-only keys and isolation.

use crate::helpers::*;
use serde_json::{Value, json};
use std::time::Duration;
use whale_crm::domain::data_request::email_proof;

const REQUEST: &str = "mutation($id: ID!, $input: DataRequestInput!) {
  requestDataRemoval(customerId: $id, input: $input) { id customerId type status reason notifyCustomer emailHash estimatedCompletion createdAt completedAt }
}";

const READ: &str = "query($id: ID!) { dataRequest(id: $id) { id status reason emailHash startedAt completedAt estimatedCompletion } }";

async fn wait_for_status(app: &TestApp, id: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = app.gql(READ, json!({ "id": id })).await;
        assert_no_errors(&body);
        if body["data"]["dataRequest"]["status"] == status {
            return body["data"]["dataRequest"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "request {id} never reached {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn pg_dump() -> String {
    let out = std::process::Command::new("pg_dump").args(["--data-only", "--no-owner"]).arg(database_url()).output().expect("pg_dump runs");
    assert!(out.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 dump")
}

#[tokio::test(flavor = "multi_thread")]
async fn erasure_removes_every_trace_of_the_customer_and_keeps_a_proof() {
    let app = TestApp::spawn().await;
    // webhook payloads about the customer are personal data too
    let receiver = WebhookReceiver::start(vec![]).await;
    let (endpoint, _) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED", "CUSTOMER_UPDATED", "CUSTOMER_DELETED", "DATA_REQUEST_COMPLETED"]).await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let marker = |what: &str| format!("{what}{}", &tag[..12]);
    let email = format!("{}@erase.example", marker("zed"));
    let id = app
        .create_customer(json!({
            "email": email,
            "firstName": marker("Zebedee"),
            "lastName": marker("Quux"),
            "phone": "+1 415 555 0199",
            "tags": [marker("tag")],
            "metadata": { "favourite": marker("meta") },
            "addresses": [{ "line1": marker("Line"), "city": marker("City"), "country": "US" }]
        }))
        .await;
    let keep = app.create_customer(json!({ "email": format!("{}@erase.example", marker("keep")) })).await;
    let events = json!([
        { "customerId": id, "event": { "type": "ORDER", "title": marker("Order"), "amount": 40.0, "orderId": marker("ord"), "properties": { "gift": marker("prop") } } },
        { "customerId": id, "event": { "type": "SUPPORT", "title": marker("Chat"), "agent": "Sam" } },
    ]);
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await);
    assert_no_errors(&app.gql("mutation($id: ID!, $b: String!) { addCustomerNote(customerId: $id, body: $b) { id } }", json!({ "id": id, "b": marker("Note") })).await);
    let segment = app
        .gql("mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id memberCount } }", json!({ "input": { "name": "Watch", "type": "STATIC", "customerIds": [id, keep] } }))
        .await;
    assert_eq!(segment["data"]["createSegment"]["memberCount"], 2, "{segment}");
    let segment_id = segment["data"]["createSegment"]["id"].as_str().unwrap().to_owned();
    assert_no_errors(&app.gql("mutation($id: ID!, $n: String!) { updateCustomer(id: $id, input: { lastName: $n }) { customer { id } } }", json!({ "id": id, "n": marker("Quux") })).await);
    // an earlier export, whose reason (and completion event) may name them
    let export = app.gql(REQUEST, json!({ "id": id, "input": { "type": "EXPORT", "reason": format!("asked by {}", marker("Why")) } })).await;
    assert_no_errors(&export);
    wait_for_status(&app, export["data"]["requestDataRemoval"]["id"].as_str().unwrap(), "COMPLETED").await;
    let logged = app.gql("query($id: ID!) { webhookEndpoint(id: $id) { deliveries { nodes { event payload } } } }", json!({ "id": endpoint })).await;
    assert!(logged.to_string().contains(&marker("Zebedee")), "the delivery log holds the profile: {logged}");
    assert!(logged.to_string().contains(&marker("Why")), "and the export's reason: {logged}");
    let phone_digits = "4155550199";
    let markers = [email.clone(), marker("Zebedee"), marker("Quux"), marker("tag"), marker("meta"), marker("Line"), marker("City"), marker("Order"), marker("ord"), marker("prop"), marker("Chat"), marker("Note"), marker("Reason"), marker("Why")];
    let before = pg_dump();
    for m in &markers[..12] {
        assert!(before.contains(m.as_str()), "the dump holds {m} before the erasure");
    }

    let body = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE", "reason": format!("asked by {}", marker("Reason")), "notifyCustomer": true } })).await;
    assert_no_errors(&body);
    let request = &body["data"]["requestDataRemoval"];
    assert_eq!((request["type"].as_str(), request["customerId"].as_str(), request["notifyCustomer"].as_bool()), (Some("ERASURE"), Some(id.as_str()), Some(true)));
    assert!(request["estimatedCompletion"].is_string(), "{request}");
    let request_id = request["id"].as_str().unwrap().to_owned();
    assert!(request_id.starts_with("dreq_"));

    let done = wait_for_status(&app, &request_id, "COMPLETED").await;
    assert_eq!(done["reason"], Value::Null, "the reason may name the customer: cleared");
    assert_eq!(done["emailHash"], email_proof(TEST_SECRET.as_bytes(), &email));
    assert!(done["startedAt"].is_string() && done["completedAt"].is_string());
    assert_eq!(done["estimatedCompletion"], done["completedAt"]);

    // the id resolves to nothing, everywhere
    let gone = app.gql("query($id: ID!, $e: String!) { customer(id: $id) { id } customerByEmail(email: $e) { id } }", json!({ "id": id, "e": email })).await;
    assert_eq!(gone["data"], json!({ "customer": null, "customerByEmail": null }));
    let list = app.gql("{ customers(first: 50) { totalCount nodes { id } } }", json!({})).await;
    assert_eq!(list["data"]["customers"]["nodes"], json!([{ "id": keep }]));
    let members = app.gql("query($id: ID!) { segment(id: $id) { memberCount } }", json!({ "id": segment_id })).await;
    assert_eq!(members["data"]["segment"]["memberCount"], 1);

    let after = pg_dump();
    for m in &markers {
        assert!(!after.contains(m.as_str()), "the dump still holds {m}");
    }
    assert!(!after.contains(phone_digits) && !after.contains("+14155550199"), "the dump still holds the phone");
    assert!(after.contains(&email_proof(TEST_SECRET.as_bytes(), &email)), "the proof is kept");
    // what the log still shows about them: that they were deleted, and the request completed
    let logged = app.gql("query($id: ID!) { webhookEndpoint(id: $id) { deliveries { nodes { event payload } } } }", json!({ "id": endpoint })).await;
    let about: Vec<&str> = logged["data"]["webhookEndpoint"]["deliveries"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["payload"]["data"]["id"] == id.as_str() || d["payload"]["data"]["customerId"] == id.as_str())
        .filter_map(|d| d["event"].as_str())
        .collect();
    assert_eq!(about, ["DATA_REQUEST_COMPLETED", "CUSTOMER_DELETED"], "the erasure's own events only: {logged}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_request_is_returned_instead_of_a_second_one() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("dreq") })).await;
    // Hold the customer's row lock, so the erasure (whichever worker, of whichever test process,
    // takes it) cannot finish while the request is asked for twice.
    let mut lock = connection().await;
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
        let uuid = whale_crm::domain::ids::CustomerId::parse(&id).unwrap().0;
        diesel::sql_query(format!("SELECT 1 FROM customers WHERE id = '{uuid}' FOR UPDATE")).execute(&mut lock).await.unwrap();
    }
    let first = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE" } })).await;
    let second = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE", "reason": "again" } })).await;
    assert_no_errors(&second);
    assert_eq!(first["data"]["requestDataRemoval"]["id"], second["data"]["requestDataRemoval"]["id"]);
    let status = second["data"]["requestDataRemoval"]["status"].as_str().unwrap().to_owned();
    assert!(status == "PENDING" || status == "PROCESSING", "{status}");
    assert_eq!(second["data"]["requestDataRemoval"]["reason"], Value::Null, "the open request as it was");
    let list = app.gql("query($c: ID!) { dataRequests(customerId: $c, type: ERASURE) { nodes { id status } pageInfo { hasNextPage } } }", json!({ "c": id })).await;
    assert_eq!(list["data"]["dataRequests"]["nodes"].as_array().map(Vec::len), Some(1), "{list}");
    // until the erasure runs, the customer is still there
    let still = app.gql("query($id: ID!) { customer(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(still["data"]["customer"]["id"], id.as_str());
    {
        use diesel_async::RunQueryDsl;
        diesel::sql_query("ROLLBACK").execute(&mut lock).await.unwrap();
    }
    let request_id = first["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&app, &request_id, "COMPLETED").await;
    // a request after the last one completed is a new one
    let again = app.create_customer(json!({ "email": unique_email("dreq") })).await;
    let other = app.gql(REQUEST, json!({ "id": again, "input": { "type": "EXPORT" } })).await;
    assert_ne!(other["data"]["requestDataRemoval"]["id"], first["data"]["requestDataRemoval"]["id"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_and_leave_nothing_behind() {
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let id = app.create_customer(json!({ "email": unique_email("dreq") })).await;
    let cases = [
        (json!({ "id": "cust_00000000000000000000000000000000", "input": { "type": "ERASURE" } }), "NOT_FOUND", "customerId"),
        (json!({ "id": "nope", "input": { "type": "ERASURE" } }), "BAD_USER_INPUT", "customerId"),
        (json!({ "id": id, "input": { "type": "ERASURE", "reason": "x".repeat(501) } }), "BAD_USER_INPUT", "input.reason"),
    ];
    for (variables, code, path) in cases {
        let body = app.gql(REQUEST, variables).await;
        assert_eq!((error_code(&body), error_path(&body)), (code.to_owned(), path.to_owned()), "{body}");
    }
    let (_, read_only) = {
        let key = whale_crm::db::api_keys::issue(&mut connection().await, app.store, "reader", true).await.expect("key");
        ((), key)
    };
    let body = app.gql_as(&read_only, REQUEST, json!({ "id": id, "input": { "type": "ERASURE" } })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let list = app.gql("{ dataRequests { nodes { id } } }", json!({})).await;
    assert_eq!(list["data"]["dataRequests"]["nodes"], json!([]), "nothing was written");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_store_can_neither_request_nor_see_a_request() {
    let mut config = test_config();
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    let (_, other_key) = new_store("other", false).await;
    let id = app.create_customer(json!({ "email": unique_email("dreq") })).await;
    let body = app.gql_as(&other_key, REQUEST, json!({ "id": id, "input": { "type": "ERASURE" } })).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let mine = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE" } })).await;
    let request_id = mine["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    let read = app.gql_as(&other_key, READ, json!({ "id": request_id })).await;
    assert_eq!(read["data"]["dataRequest"], Value::Null);
    let list = app.gql_as(&other_key, "{ dataRequests { nodes { id } } }", json!({})).await;
    assert_eq!(list["data"]["dataRequests"]["nodes"], json!([]));
}

const EXPORT: &str = "query($id: ID!) { dataRequest(id: $id) { id type status downloadUrl completedAt } }";

/// The path and query of a download link (links name the configured public URL).
fn path_of(url: &str) -> String {
    url.strip_prefix("http://whale.test").unwrap_or_else(|| panic!("{url} is not on the public URL")).to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_is_a_complete_archive_at_a_signed_expiring_link() {
    let app = TestApp::spawn().await;
    let email = unique_email("export");
    let id = app
        .create_customer(json!({ "email": email, "firstName": "Ada", "tags": ["vip"], "metadata": { "source": "fair" }, "addresses": [{ "line1": "1 Main St", "city": "Oslo", "country": "NO" }] }))
        .await;
    let events = json!([
        { "customerId": id, "event": { "type": "ORDER", "title": "Order #1", "amount": 20.0, "orderId": "1", "properties": { "items": 2 } } },
        { "customerId": id, "event": { "type": "EMAIL", "title": "Welcome", "campaignId": "c1" } },
    ]);
    assert_no_errors(&app.gql("mutation($e: [CustomerActivityInput!]!) { recordActivities(events: $e) { createdCount } }", json!({ "e": events })).await);
    assert_no_errors(&app.gql("mutation($id: ID!) { addCustomerNote(customerId: $id, body: \"Prefers email\") { id } }", json!({ "id": id })).await);
    let segment = app.gql("mutation($input: SegmentCreateInput!) { createSegment(input: $input) { id } }", json!({ "input": { "name": "VIPs", "type": "STATIC", "customerIds": [id] } })).await;
    assert_no_errors(&segment);

    let body = app.gql(REQUEST, json!({ "id": id, "input": { "type": "EXPORT", "format": "JSON" } })).await;
    assert_no_errors(&body);
    let request_id = body["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&app, &request_id, "COMPLETED").await;
    let read = app.gql(EXPORT, json!({ "id": request_id })).await;
    let url = read["data"]["dataRequest"]["downloadUrl"].as_str().expect("a download link").to_owned();
    let hash = app.gql("query($id: ID!) { dataRequest(id: $id) { emailHash } }", json!({ "id": request_id })).await;
    assert_eq!(hash["data"]["dataRequest"]["emailHash"], Value::Null, "only an erasure keeps a proof");
    assert_eq!(read["data"]["dataRequest"]["type"], "EXPORT");

    let response = app.client.get(app.url(&path_of(&url))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(response.headers()["cache-control"], "no-store");
    let archive: Value = response.json().await.unwrap();
    assert_eq!(archive["customer"]["email"], email.as_str());
    assert_eq!(archive["customer"]["metadata"], json!({ "source": "fair" }));
    assert_eq!(archive["customer"]["tags"], json!(["vip"]));
    assert_eq!(archive["addresses"][0]["line1"], "1 Main St");
    assert_eq!(archive["notes"][0]["body"], "Prefers email");
    assert_eq!(archive["activity"].as_array().map(Vec::len), Some(2));
    assert!(archive["activity"].as_array().unwrap().iter().any(|e| e["properties"] == json!({ "items": 2 }) && e["orderId"] == "1"));
    assert_eq!(archive["metrics"]["averageOrderValue"], 20.0);
    assert_eq!(archive["segments"][0]["name"], "VIPs");
    assert_eq!((archive["enrichment"]["country"].as_str(), archive["enrichment"]["timeZone"].as_str()), (Some("NO"), Some("Europe/Oslo")));

    // tampering: another request's id, another expiry, another signature
    let tampered = [
        url.replacen(&request_id, "dreq_00000000000000000000000000000000", 1),
        url.replacen("expires=", "expires=1", 1),
        // the signature's last digit changed (to one it is not)
        format!("{}{}", &url[..url.len() - 1], if url.ends_with('0') { '1' } else { '0' }),
    ];
    for link in tampered {
        let status = app.client.get(app.url(&path_of(&link))).send().await.unwrap().status();
        assert_eq!(status, 403, "{link}");
    }
    // a correctly signed link past its expiry
    let past = chrono::Utc::now().timestamp() - 1;
    let signature = whale_crm::domain::data_request::download_signature(TEST_SECRET.as_bytes(), &request_id, past);
    let expired = app.client.get(app.url(&format!("/downloads/{request_id}?expires={past}&signature={signature}"))).send().await.unwrap();
    assert_eq!(expired.status(), 404);
    // another store cannot see the request (so gets no link)
    let (_, other_key) = new_store("other", false).await;
    assert_eq!(app.gql_as(&other_key, EXPORT, json!({ "id": request_id })).await["data"]["dataRequest"], Value::Null);

    // erasing the customer deletes the archive too
    let erase = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE" } })).await;
    wait_for_status(&app, erase["data"]["requestDataRemoval"]["id"].as_str().unwrap(), "COMPLETED").await;
    let after = app.client.get(app.url(&path_of(&url))).send().await.unwrap();
    assert_eq!(after.status(), 404);
    assert!(!pg_dump().contains(email.as_str()), "no archive or row holds the email");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_archive_is_deleted_by_its_job() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("expire") })).await;
    let body = app.gql(REQUEST, json!({ "id": id, "input": { "type": "EXPORT" } })).await;
    let request_id = body["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&app, &request_id, "COMPLETED").await;
    let uuid = whale_crm::domain::ids::DataRequestId::parse(&request_id).unwrap().0;
    // the archive's time has come: its expiry job is due now
    execute_sql(&format!("UPDATE data_exports SET expires_at = now() - interval '1 second' WHERE request_id = '{uuid}'")).await;
    execute_sql(&format!("UPDATE jobs SET run_at = now() WHERE kind = 'data_export.expire' AND payload->>'request' = '{request_id}'")).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 = {
            use diesel::prelude::*;
            use diesel_async::RunQueryDsl;
            use whale_crm::db::schema::data_exports as t;
            t::table.filter(t::request_id.eq(uuid)).count().get_result(&mut connection().await).await.unwrap()
        };
        if left == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the archive was not deleted");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let read = app.gql(EXPORT, json!({ "id": request_id })).await;
    assert_eq!(read["data"]["dataRequest"]["status"], "COMPLETED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_format_is_for_exports_only() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("fmt") })).await;
    let body = app.gql(REQUEST, json!({ "id": id, "input": { "type": "ERASURE", "format": "JSON" } })).await;
    assert_eq!((error_code(&body), error_path(&body)), ("BAD_USER_INPUT".to_owned(), "input.format".to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_csv_export_is_a_zip_of_one_file_per_section() {
    let app = TestApp::spawn().await;
    let email = unique_email("csv");
    let id = app.create_customer(json!({ "email": email, "addresses": [{ "city": "Oslo, Norway" }] })).await;
    let body = app.gql(REQUEST, json!({ "id": id, "input": { "type": "EXPORT", "format": "CSV" } })).await;
    assert_no_errors(&body);
    let request_id = body["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();
    wait_for_status(&app, &request_id, "COMPLETED").await;
    let read = app.gql("query($id: ID!) { dataRequest(id: $id) { format downloadUrl } }", json!({ "id": request_id })).await;
    assert_eq!(read["data"]["dataRequest"]["format"], "CSV");
    let url = read["data"]["dataRequest"]["downloadUrl"].as_str().unwrap().to_owned();
    let response = app.client.get(app.url(&path_of(&url))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap();
    let mut files = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("a zip");
    let mut names: Vec<String> = files.file_names().map(|n| n.expect("a name").into_owned()).collect();
    names.sort();
    assert_eq!(names, ["activity.csv", "addresses.csv", "customer.csv", "enrichment.csv", "metrics.csv", "notes.csv", "segments.csv"]);
    let mut customer = String::new();
    std::io::Read::read_to_string(&mut files.by_name("customer.csv").unwrap(), &mut customer).unwrap();
    assert!(customer.contains(&email), "{customer}");
    let mut addresses = String::new();
    std::io::Read::read_to_string(&mut files.by_name("addresses.csv").unwrap(), &mut addresses).unwrap();
    assert!(addresses.contains("\"Oslo, Norway\""), "{addresses}");
    // a list the customer has nothing in still has its header row
    for (file, header) in [("notes.csv", "author,body,createdAt,id,updatedAt"), ("segments.csv", "id,name,type")] {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut files.by_name(file).unwrap(), &mut text).unwrap();
        assert_eq!(text, format!("{header}\n"), "{file}");
    }
    let mut activity = String::new();
    std::io::Read::read_to_string(&mut files.by_name("activity.csv").unwrap(), &mut activity).unwrap();
    assert!(activity.starts_with("agent,amount,"), "{activity}");
}
