//! Webhooks: endpoints, deliveries to a local receiver verified by their signature, retries
//! after failures, the delivery log, validation and isolation. (What one attempt may do —
//! time-outs, redirects, answer size, private addresses — is tested on `jobs::webhooks::Sender`.)

use crate::helpers::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const DELIVERIES: &str = "query($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 50) {
  nodes { id eventId event status attempts payload responseStatus responseBody lastError lastAttemptAt nextAttemptAt createdAt }
} } }";

/// Checks a `Whale-Signature` header the way a receiver would (the README's recipe): the
/// timestamp is recent and some `v1` is the HMAC-SHA256 of "<t>.<body>" under the secret.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v.to_owned()),
            _ => {}
        }
    }
    let Some(t) = timestamp else { return false };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    signatures.contains(&expected)
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The endpoint's deliveries, newest first, once `done` says the log is as expected.
async fn deliveries_when(app: &TestApp, endpoint: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = app.gql(DELIVERIES, json!({ "id": endpoint })).await;
        assert_no_errors(&body);
        let nodes = body["data"]["webhookEndpoint"]["deliveries"]["nodes"].as_array().cloned().unwrap_or_default();
        if done(&nodes) {
            return nodes;
        }
        assert!(tokio::time::Instant::now() < deadline, "the delivery log never settled: {nodes:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_events_arrive_signed_and_are_logged() {
    let app = TestApp::spawn().await;
    let mut receiver = WebhookReceiver::start(vec![]).await;
    let (endpoint, secret) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED", "CUSTOMER_UPDATED", "CUSTOMER_DELETED"]).await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    let email = unique_email("hook");
    let id = app.create_customer(json!({ "email": email, "firstName": "Ada" })).await;
    let created = receiver.next_within(20).await;
    assert!(verify(&secret, header(&created, "whale-signature"), &created.body), "signature checks out: {created:?}");
    assert!(!verify("whsec_other", header(&created, "whale-signature"), &created.body), "and not under another secret");
    assert_eq!(header(&created, "content-type"), "application/json");
    let event: Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!((event["event"].as_str(), event["data"]["id"].as_str(), event["data"]["email"].as_str()), (Some("customer.created"), Some(id.as_str()), Some(email.as_str())));
    assert_eq!(header(&created, "whale-event-id"), event["id"].as_str().unwrap());
    assert_eq!(header(&created, "whale-event"), "customer.created");

    let update = app.gql("mutation($id: ID!) { updateCustomer(id: $id, input: { lastName: \"Lovelace\" }) { customer { id } } }", json!({ "id": id })).await;
    assert_no_errors(&update);
    let updated: Value = serde_json::from_str(&receiver.next_within(20).await.body).unwrap();
    assert_eq!((updated["event"].as_str(), updated["data"]["lastName"].as_str()), (Some("customer.updated"), Some("Lovelace")));
    assert_no_errors(&app.gql("mutation($id: ID!) { deleteCustomer(id: $id) { deletedCustomerId } }", json!({ "id": id })).await);
    let deleted: Value = serde_json::from_str(&receiver.next_within(20).await.body).unwrap();
    assert_eq!((deleted["event"].as_str(), deleted["data"].clone()), (Some("customer.deleted"), json!({ "id": id })));

    let log = deliveries_when(&app, &endpoint, |n| n.len() == 3 && n.iter().all(|d| d["status"] == "SUCCEEDED")).await;
    let events: Vec<&str> = log.iter().map(|d| d["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["CUSTOMER_DELETED", "CUSTOMER_UPDATED", "CUSTOMER_CREATED"], "newest first");
    let first = &log[2];
    assert_eq!((first["attempts"].as_i64(), first["responseStatus"].as_i64(), &first["lastError"]), (Some(1), Some(200), &Value::Null));
    assert_eq!(first["eventId"], event["id"]);
    assert_eq!(first["payload"], event, "the log holds the body as sent");
    assert!(first["lastAttemptAt"].is_string() && first["nextAttemptAt"].is_null());

    // a delivery is made once: nothing more arrives
    assert!(!receiver.gets_something_within(1500).await, "no duplicate deliveries");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_receiver_gets_retries_until_it_answers() {
    let app = TestApp::spawn().await;
    let mut failing = Reply::status(500);
    failing.body = "database is down".into();
    let mut receiver = WebhookReceiver::start(vec![failing, Reply::status(503)]).await;
    let (endpoint, secret) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED"]).await;
    app.create_customer(json!({ "email": unique_email("retry") })).await;

    let first = receiver.next_within(20).await;
    // the log shows the failure and when the next attempt is due
    let pending = deliveries_when(&app, &endpoint, |n| n.first().is_some_and(|d| d["attempts"] == 1)).await;
    let d = &pending[0];
    assert_eq!((d["status"].as_str(), d["responseStatus"].as_i64(), d["lastError"].as_str()), (Some("PENDING"), Some(500), Some("HTTP 500")));
    assert_eq!(d["responseBody"], "database is down");
    let second = receiver.next_within(20).await;
    let third = receiver.next_within(20).await;
    for attempt in [&first, &second, &third] {
        assert!(verify(&secret, header(attempt, "whale-signature"), &attempt.body), "every attempt is signed");
        assert_eq!(attempt.body, first.body, "the same event each time");
    }
    let log = deliveries_when(&app, &endpoint, |n| n.first().is_some_and(|d| d["status"] == "SUCCEEDED")).await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0]["attempts"].as_i64(), log[0]["responseStatus"].as_i64(), &log[0]["lastError"]), (Some(3), Some(200), &Value::Null));
    assert!(!receiver.gets_something_within(1500).await, "done after the success");
}

#[tokio::test(flavor = "multi_thread")]
async fn private_addresses_are_refused_by_default() {
    let mut config = test_config();
    config.webhooks.allow_private = false;
    // (no workers: they would run other tests' deliveries to their loopback receivers)
    config.jobs.workers = 0;
    let app = TestApp::spawn_with(config).await;
    for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://10.0.0.8/hook"] {
        let body = app.gql(CREATE_ENDPOINT, json!({ "input": { "url": url, "events": ["CUSTOMER_CREATED"] } })).await;
        assert_eq!((error_code(&body), error_path(&body)), ("BAD_USER_INPUT".to_owned(), "input.url".to_owned()), "{url}: {body}");
        // the error says how a development server allows them
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("WHALE_WEBHOOK_ALLOW_PRIVATE=true"), "{body}");
    }
    // a host name is checked where it resolves, when a delivery connects (`jobs::webhooks`)
    let body = app.gql(CREATE_ENDPOINT, json!({ "input": { "url": "http://localhost:9/hook", "events": ["CUSTOMER_CREATED"] } })).await;
    assert_no_errors(&body);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_endpoints_are_refused_and_leave_nothing_behind() {
    let app = TestApp::spawn().await;
    let events = json!(["CUSTOMER_CREATED"]);
    let cases = [
        (json!({ "url": "hooks.example.com/x", "events": events }), "input.url"),
        (json!({ "url": "ftp://hooks.example.com/x", "events": events }), "input.url"),
        (json!({ "url": "https://user:pw@hooks.example.com/x", "events": events }), "input.url"),
        (json!({ "url": format!("https://hooks.example.com/{}", "a".repeat(2048)), "events": events }), "input.url"),
        (json!({ "url": "https://hooks.example.com/x", "events": [] }), "input.events"),
        (json!({ "url": "https://hooks.example.com/x", "events": events, "description": "d".repeat(501) }), "input.description"),
    ];
    for (input, path) in cases {
        let body = app.gql(CREATE_ENDPOINT, json!({ "input": input })).await;
        assert_eq!((error_code(&body), error_path(&body)), ("BAD_USER_INPUT".to_owned(), path.to_owned()), "{body}");
    }
    let unknown = app.gql(CREATE_ENDPOINT, json!({ "input": { "url": "https://hooks.example.com/x", "events": ["CUSTOMER_MERGED"] } })).await;
    assert!(unknown["errors"].is_array(), "{unknown}");
    let list = app.gql("{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(list["data"]["webhookEndpoints"], json!([]), "nothing was written");

    // the secret is shown once; afterwards only its hint
    let body = app.gql(CREATE_ENDPOINT, json!({ "input": { "url": "https://hooks.example.com/x", "events": ["CUSTOMER_CREATED", "CUSTOMER_CREATED"], "description": " CRM sync " } })).await;
    assert_no_errors(&body);
    let created = &body["data"]["createWebhookEndpoint"];
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(created["endpoint"]["events"], json!(["CUSTOMER_CREATED"]), "duplicates collapse");
    assert_eq!(created["endpoint"]["description"], "CRM sync");
    let listed = app.gql("{ webhookEndpoints { id url secretHint } }", json!({})).await;
    assert_eq!(listed["data"]["webhookEndpoints"][0]["secretHint"], format!("…{}", &secret[secret.len() - 4..]));
    assert!(!listed.to_string().contains(secret));
    let asked = app.gql("{ webhookEndpoints { secret } }", json!({})).await;
    assert!(asked["errors"].is_array(), "an endpoint has no readable secret: {asked}");

    // at most 16 per store
    for _ in 1..16 {
        app.create_endpoint("https://hooks.example.com/y", &["CUSTOMER_DELETED"]).await;
    }
    let over = app.gql(CREATE_ENDPOINT, json!({ "input": { "url": "https://hooks.example.com/z", "events": events } })).await;
    assert_eq!(error_code(&over), "BAD_USER_INPUT", "{over}");
    let count = app.gql("{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(count["data"]["webhookEndpoints"].as_array().map(Vec::len), Some(16));
}

#[tokio::test(flavor = "multi_thread")]
async fn endpoints_and_their_events_belong_to_one_store() {
    let app = TestApp::spawn().await;
    let (_, other_key) = new_store("other", false).await;
    let mut receiver = WebhookReceiver::start(vec![]).await;
    let (endpoint, _) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED"]).await;

    let read = app.gql_as(&other_key, DELIVERIES, json!({ "id": endpoint })).await;
    assert_eq!(read["data"]["webhookEndpoint"], Value::Null);
    let listed = app.gql_as(&other_key, "{ webhookEndpoints { id } }", json!({})).await;
    assert_eq!(listed["data"]["webhookEndpoints"], json!([]));
    let delete = app.gql_as(&other_key, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedWebhookEndpointId } }", json!({ "id": endpoint })).await;
    assert_eq!(error_code(&delete), "NOT_FOUND");

    // the other store's customers are not this store's events
    let theirs = app.gql_as(&other_key, "mutation($e: String!) { createCustomer(input: { email: $e }) { created } }", json!({ "e": unique_email("theirs") })).await;
    assert_eq!(theirs["data"]["createCustomer"]["created"], true);
    assert!(!receiver.gets_something_within(1500).await, "another store's event was delivered");

    // a deleted endpoint gets nothing more, and its log goes with it
    let delete = app.gql("mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedWebhookEndpointId } }", json!({ "id": endpoint })).await;
    assert_eq!(delete["data"]["deleteWebhookEndpoint"]["deletedWebhookEndpointId"], endpoint.as_str());
    app.create_customer(json!({ "email": unique_email("after") })).await;
    assert!(!receiver.gets_something_within(1500).await);
    let gone = app.gql(DELIVERIES, json!({ "id": endpoint })).await;
    assert_eq!(gone["data"]["webhookEndpoint"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_completed_export_is_announced_with_a_working_download_link() {
    let app = TestApp::spawn().await;
    let mut receiver = WebhookReceiver::start(vec![Reply::status(500)]).await;
    let (endpoint, secret) = app.create_endpoint(&receiver.url, &["DATA_REQUEST_COMPLETED"]).await;
    let id = app.create_customer(json!({ "email": unique_email("hookexport") })).await;
    let body = app
        .gql("mutation($id: ID!) { requestDataRemoval(customerId: $id, input: { type: EXPORT, notifyCustomer: true }) { id } }", json!({ "id": id }))
        .await;
    assert_no_errors(&body);
    let request = body["data"]["requestDataRemoval"]["id"].as_str().unwrap().to_owned();

    let first = receiver.next_within(30).await;
    let retried = receiver.next_within(30).await;
    assert!(verify(&secret, header(&retried, "whale-signature"), &retried.body));
    let event: Value = serde_json::from_str(&retried.body).unwrap();
    assert_eq!(event["event"], "data_request.completed");
    let data = &event["data"];
    assert_eq!((data["id"].as_str(), data["customerId"].as_str(), data["type"].as_str()), (Some(request.as_str()), Some(id.as_str()), Some("EXPORT")));
    assert_eq!((data["status"].as_str(), data["notifyCustomer"].as_bool()), (Some("COMPLETED"), Some(true)));
    // each attempt carries a link of its own; it downloads the archive
    let first_event: Value = serde_json::from_str(&first.body).unwrap();
    assert_eq!(first_event["id"], event["id"]);
    assert!(first_event["data"]["downloadUrl"].is_string(), "the failed attempt had its link too");
    let link = data["downloadUrl"].as_str().unwrap();
    let path = link.strip_prefix("http://whale.test").expect("on the public URL");
    let download = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(download.status(), 200);
    let archive: Value = download.json().await.unwrap();
    assert_eq!(archive["customer"]["id"], id.as_str());
    // the log never holds a link
    let log = deliveries_when(&app, &endpoint, |n| n.first().is_some_and(|d| d["status"] == "SUCCEEDED")).await;
    assert!(log[0]["payload"]["data"].get("downloadUrl").is_none(), "{}", log[0]["payload"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn finished_deliveries_are_pruned_after_thirty_days() {
    let app = TestApp::spawn().await;
    let mut receiver = WebhookReceiver::start(vec![]).await;
    let (endpoint, _) = app.create_endpoint(&receiver.url, &["CUSTOMER_CREATED"]).await;
    app.create_customer(json!({ "email": unique_email("old") })).await;
    receiver.next_within(20).await;
    let old = deliveries_when(&app, &endpoint, |n| n.first().is_some_and(|d| d["status"] == "SUCCEEDED")).await;
    let old_id = whale_crm::domain::ids::WebhookDeliveryId::parse(old[0]["id"].as_str().unwrap()).unwrap();
    execute_sql(&format!("UPDATE webhook_deliveries SET created_at = now() - interval '31 days' WHERE id = '{}'", old_id.0)).await;
    app.create_customer(json!({ "email": unique_email("new") })).await;
    receiver.next_within(20).await;
    deliveries_when(&app, &endpoint, |n| n.len() == 2 && n.iter().all(|d| d["status"] == "SUCCEEDED")).await;

    let pruned = whale_crm::db::webhooks::prune(&mut connection().await, whale_crm::db::webhooks::LOG_RETENTION_DAYS).await.expect("prune");
    assert!(pruned >= 1);
    let left = deliveries_when(&app, &endpoint, |n| n.len() == 1).await;
    assert_ne!(left[0]["id"], old[0]["id"], "the recent one stays");
}
