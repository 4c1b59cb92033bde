//! The HTTP surface: GraphQL over HTTP (media types, status codes, GET for queries only),
//! GraphiQL, health and readiness, CORS.

use crate::helpers::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn get_runs_queries_and_refuses_mutations() {
    let app = TestApp::spawn().await;
    let ok = app.client.get(app.url("/graphql")).query(&[("query", "{ customers { totalCount } }")]).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["data"]["customers"]["totalCount"], 0);

    let mutation = "mutation { createCustomer(input: {email: \"get@example.com\"}) { created } }";
    let refused = app.client.get(app.url("/graphql")).query(&[("query", mutation)]).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "POST");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let lookup = app.gql("{ customerByEmail(email: \"get@example.com\") { id } }", json!({})).await;
    assert!(lookup["data"]["customerByEmail"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn graphql_response_json_uses_status_codes_for_request_errors() {
    let app = TestApp::spawn().await;
    let send = |query: &'static str, accept: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&app.key)
            .header("Accept", accept)
            .json(&json!({ "query": query }))
            .send()
    };
    let media = "application/graphql-response+json";
    let ok = send("{ customers { totalCount } }", media).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], media);

    let parse_error = send("{ customers { ", media).await.unwrap();
    assert_eq!(parse_error.status(), 400);
    let body: Value = parse_error.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert!(body.get("data").is_none(), "a request error has no data entry");

    let unknown_field = send("{ customers { nope } }", media).await.unwrap();
    assert_eq!(unknown_field.status(), 400);

    // An execution error is still a 200 with data.
    let exec_error = send("{ customer(id: \"bad\") { id } }", media).await.unwrap();
    assert_eq!(exec_error.status(), 200);
    let body: Value = exec_error.json().await.unwrap();
    assert!(body.get("data").is_some());
    assert_eq!(error_code(&body), "BAD_USER_INPUT");

    // Plain application/json: always 200.
    let legacy = send("{ customers { ", "application/json").await.unwrap();
    assert_eq!(legacy.status(), 200);
    assert_eq!(legacy.headers()["content-type"], "application/json");
    assert!(legacy.headers().contains_key("x-request-id"));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_clear_errors() {
    let app = TestApp::spawn().await;
    let wrong_type = app.client.post(app.url("/graphql")).bearer_auth(&app.key).header("Content-Type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(wrong_type.status(), 415);
    let not_json = app.client.post(app.url("/graphql")).bearer_auth(&app.key).header("Content-Type", "application/json").body("{ nope").send().await.unwrap();
    assert_eq!(not_json.status(), 400);
    let body: Value = not_json.json().await.unwrap();
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_health_and_readiness() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    let health: Value = app.client.get(app.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn().await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://shop.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://shop.example");
    assert!(allowed.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_errors_hide_their_cause_and_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let id = app.create_customer(json!({ "email": unique_email("broken") })).await;
    // Data the code cannot read (a NULL tag) makes the resolver fail inside the data layer.
    execute_sql(&format!("UPDATE customers SET tags = ARRAY[NULL]::text[] WHERE store_id = '{}'", app.store.0)).await;
    let body = app.gql("query($id: ID!) { customer(id: $id) { tags } }", json!({ "id": id })).await;
    assert_eq!(error_code(&body), "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "Internal error. Quote the requestId when reporting it.");
    assert_eq!(body["errors"][0]["extensions"]["requestId"].as_str().map(str::len), Some(32));
    let text = body.to_string().to_lowercase();
    assert!(!text.contains("diesel") && !text.contains("deserializ"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn control_characters_in_search_are_bad_input() {
    let app = TestApp::spawn().await;
    let body = app.gql("{ customers(search: \"a\\u0000b\") { totalCount } }", json!({})).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(error_path(&body), "search");
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_by_route_and_show_the_queues() {
    let app = TestApp::spawn().await;
    app.create_customer(json!({ "email": unique_email("metrics") })).await;
    let _ = app.client.get(app.url(&format!("/downloads/dreq_{}", "0".repeat(32)))).send().await.unwrap();
    // the queue gauges are read in the background: wait for a read that saw the customer's jobs
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let text = loop {
        let response = app.client.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
        let text = response.text().await.unwrap();
        if text.contains("# TYPE whale_jobs gauge") || std::time::Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(text.contains("whale_http_requests_total{route=\"/graphql\",status=\"200\"}"), "{text}");
    // routes, not URLs: no ids in the labels
    assert!(text.contains("route=\"/downloads/{id}\"") && !text.contains("dreq_"), "{text}");
    assert!(text.contains("whale_http_request_duration_seconds_bucket{le="), "{text}");
    assert!(text.contains("whale_db_connections{status=\"idle\"}"), "{text}");
    assert!(text.contains("# TYPE whale_jobs gauge") && text.contains("# TYPE whale_data_requests gauge"), "{text}");
    assert!(text.trim_end().ends_with("# EOF"));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_require_a_token() {
    let mut config = test_config();
    config.http.metrics_token = Some("scrape-me".into());
    let app = TestApp::spawn_with(config).await;
    let refused = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let wrong = app.client.get(app.url("/metrics")).bearer_auth("scrape-you").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let allowed = app.client.get(app.url("/metrics")).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(allowed.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_honours_operation_name() {
    let app = TestApp::spawn().await;
    let document = "query Count { customers { totalCount } } query Typename { __typename } mutation Make { createCustomer(input: {email: \"op@example.com\"}) { created } }";
    let get = |name: &'static str| app.client.get(app.url("/graphql")).bearer_auth(&app.key).query(&[("query", document), ("operationName", name)]).send();
    let typename: Value = get("Typename").await.unwrap().json().await.unwrap();
    assert_eq!(typename["data"], json!({ "__typename": "QueryRoot" }), "{typename}");
    let count: Value = get("Count").await.unwrap().json().await.unwrap();
    assert_eq!(count["data"]["customers"]["totalCount"], 0, "{count}");
    // naming the mutation is a mutation over GET: 405
    assert_eq!(get("Make").await.unwrap().status(), 405);
    let unknown: Value = get("Nope").await.unwrap().json().await.unwrap();
    assert_eq!(error_code(&unknown), "BAD_USER_INPUT");
    let ambiguous: Value = app.client.get(app.url("/graphql")).bearer_auth(&app.key).query(&[("query", document)]).send().await.unwrap().json().await.unwrap();
    assert!(ambiguous["errors"][0]["message"].as_str().unwrap().contains("operationName"), "{ambiguous}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_json_media_types_are_accepted() {
    let app = TestApp::spawn().await;
    let send = |content_type: &'static str| {
        app.client.post(app.url("/graphql")).bearer_auth(&app.key).header("Content-Type", content_type).body(r#"{"query": "{ __typename }"}"#).send()
    };
    for refused in ["application/jsonp", "application/json-seq", "text/json", "application/x-www-form-urlencoded"] {
        assert_eq!(send(refused).await.unwrap().status(), 415, "{refused}");
    }
    for accepted in ["application/json", "application/json; charset=utf-8", "application/graphql+json"] {
        assert_eq!(send(accepted).await.unwrap().status(), 200, "{accepted}");
    }
}
