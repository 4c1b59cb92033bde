//! The HTTP surface's headers and defaults: GraphiQL from the server's own assets under a strict
//! Content-Security-Policy (and off when configured off), `Cache-Control: no-store` and
//! `nosniff` on API answers, `x-request-id` on every response, `/metrics` closed unless opened
//! and never running SQL when scraped; logs plain off a terminal, or JSON when asked.

use crate::helpers::*;
use serde_json::json;
use std::time::{Duration, Instant};
use whale_crm::db::stores;

/// The local URLs a page's `src` and `href` attributes name.
fn referenced(page: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in page.split(attribute).skip(1) {
            urls.push(piece.split('"').next().unwrap().to_owned());
        }
    }
    urls
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_is_served_from_its_own_assets_under_a_content_security_policy() {
    let app = TestApp::spawn().await;
    let page = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.contains(&format!("connect-src 'self' ws://{} wss://{};", app.addr, app.addr)), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(!html.contains("<script>") && !html.contains("<style>"), "no inline script or style: {html}");
    let urls = referenced(&html);
    assert!(urls.iter().filter(|u| u.ends_with("js") || u.contains(".js?")).count() >= 4, "{urls:?}");
    for url in urls.iter().filter(|u| *u != "data:,") {
        assert!(url.starts_with("/graphiql/assets/"), "only local assets: {url}");
        let asset = app.client.get(app.url(url)).send().await.unwrap();
        assert_eq!(asset.status(), 200, "{url}");
        let content_type = asset.headers()["content-type"].to_str().unwrap().to_owned();
        let expected = if url.contains(".css?") { "text/css; charset=utf-8" } else { "text/javascript; charset=utf-8" };
        assert_eq!(content_type, expected, "{url}");
        assert_eq!(asset.headers()["cache-control"], "public, max-age=31536000, immutable", "{url}");
        assert_eq!(asset.headers()["x-content-type-options"], "nosniff", "{url}");
        assert!(asset.bytes().await.unwrap().len() > 100, "{url}");
    }
    // the page starts GraphiQL on this server's endpoints
    let start = app.client.get(app.url("/graphiql/assets/whale-graphiql.js")).send().await.unwrap().text().await.unwrap();
    assert!(start.contains("\"/graphql\"") && start.contains("\"/graphql/ws\"") && start.contains("subscriptionUrl"));
    let unknown = app.client.get(app.url("/graphiql/assets/nope.js")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_can_be_turned_off() {
    let mut config = test_config();
    config.http.graphiql = false;
    let app = TestApp::spawn_with(config).await;
    let page = app.client.get(app.url("/graphql")).header("Accept", "text/html").send().await.unwrap();
    // a GraphQL GET without a query (401 without a key), not a page
    assert!(page.status().is_client_error());
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let asset = app.client.get(app.url("/graphiql/assets/whale-graphiql.js")).send().await.unwrap();
    assert_eq!(asset.status(), 404);
}

fn assert_private(response: &reqwest::Response, what: &str) {
    assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
    assert_eq!(response.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{what}");
    assert!(response.headers().contains_key("x-request-id"), "{what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_answers_are_neither_cached_nor_sniffed_and_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let query = "{ customers(first: 1) { totalCount } }";
    let get = app.client.get(app.url("/graphql")).query(&[("query", query)]).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(get.status(), 200);
    assert_private(&get, "GET");
    let post = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&json!({ "query": query })).send().await.unwrap();
    assert_eq!(post.status(), 200);
    assert_private(&post, "POST");
    let unauthenticated = app.client.post(app.url("/graphql")).json(&json!({ "query": query })).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    assert_private(&unauthenticated, "401");
    let padding = "x".repeat(300 * 1024);
    let too_large = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&json!({ "query": query, "variables": { "pad": padding } })).send().await.unwrap();
    assert_eq!(too_large.status(), 413);
    assert_private(&too_large, "413");
    let download = app.client.get(app.url(&format!("/downloads/dreq_{}?expires=1&signature=00", "0".repeat(32)))).send().await.unwrap();
    assert_eq!(download.status(), 403);
    assert_private(&download, "download");
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_private(&health, "healthz");
    let nowhere = app.client.get(app.url("/nowhere")).send().await.unwrap();
    assert_eq!(nowhere.status(), 404);
    assert_private(&nowhere, "404");
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().contains_key("x-request-id"), "preflight");
    // a browser front-end may read the id and Retry-After
    let cross = app.client.post(app.url("/graphql")).header("Origin", "https://shop.example").bearer_auth(&app.key).json(&json!({ "query": query })).send().await.unwrap();
    let exposed = cross.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(exposed.contains("x-request-id") && exposed.contains("retry-after"), "{exposed}");

    assert!(stores::set_rate_limit(&mut connection().await, app.store, Some((50, 1))).await.unwrap());
    let create = "mutation { createCustomer(input: { email: \"limited@example.com\" }) { created } }";
    for _ in 0..20 {
        let response = app.client.post(app.url("/graphql")).bearer_auth(&app.key).json(&json!({ "query": create })).send().await.unwrap();
        if response.status() == 429 {
            assert_private(&response, "429");
            return;
        }
    }
    panic!("never rate limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callers_request_id_is_kept_and_a_bad_one_replaced() {
    let app = TestApp::spawn().await;
    let sent = |id: &'static str| app.client.get(app.url("/healthz")).header("x-request-id", id).send();
    assert_eq!(sent("trace-42").await.unwrap().headers()["x-request-id"], "trace-42");
    let replaced = sent("not a plain id").await.unwrap();
    assert_eq!(replaced.headers()["x-request-id"].len(), 32);
    // the id of a 401 is the one its error was logged with: the same one the response carries
    let first = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ __typename }" })).send().await.unwrap();
    let second = app.client.post(app.url("/graphql")).json(&json!({ "query": "{ __typename }" })).send().await.unwrap();
    assert_ne!(first.headers()["x-request-id"], second.headers()["x-request-id"]);
    assert_eq!(first.headers().get_all("x-request-id").iter().count(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_closed_unless_opened() {
    let mut config = test_config();
    config.http.metrics_open = false;
    let app = TestApp::spawn_with(config).await;
    let closed = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(closed.status(), 403);
    assert!(closed.text().await.unwrap().contains("WHALE_METRICS_OPEN=true"));
    // an API key is no metrics token
    let with_key = app.client.get(app.url("/metrics")).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(with_key.status(), 403);
    assert!(!whale_crm::config::HttpConfig::from_environment().unwrap().metrics_open || std::env::var_os("WHALE_METRICS_OPEN").is_some(), "closed by default");
}

/// The time the scraped gauges were read from the database.
fn read_at(text: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with("whale_queue_gauges_read_timestamp_seconds ")).unwrap_or_else(|| panic!("{text}"));
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn scrapes_run_no_sql_and_the_gauges_are_refreshed_in_the_background() {
    let app = TestApp::spawn().await;
    let scrape = || async {
        let response = app.client.get(app.url("/metrics")).header("Whale-Debug", "sql").send().await.unwrap();
        assert_eq!(response.status(), 200);
        let statements: u64 = response.headers()["whale-sql-statements"].to_str().unwrap().parse().unwrap();
        (statements, response.text().await.unwrap())
    };
    // the first refresh runs at start; wait for it
    let deadline = Instant::now() + Duration::from_secs(10);
    let first = loop {
        let (_, text) = scrape().await;
        if text.contains("whale_queue_gauges_read_timestamp_seconds ") {
            break read_at(&text);
        }
        assert!(Instant::now() < deadline, "gauges never read: {text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut statements = 0;
    for _ in 0..100 {
        statements += scrape().await.0;
    }
    assert_eq!(statements, 0, "100 scrapes ran SQL");
    let (_, text) = scrape().await;
    assert!(text.contains("whale_db_connections{status=\"idle\"}"), "{text}");
    // the refresher keeps reading (every 200 ms in the tests)
    let deadline = Instant::now() + Duration::from_secs(10);
    while read_at(&scrape().await.1) <= first {
        assert!(Instant::now() < deadline, "gauges not refreshed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The lines a `serve` process logs until it says it is listening (within a deadline).
async fn logs_until_listening(format: &str) -> Vec<String> {
    use tokio::io::AsyncBufReadExt;
    let mut child = whale_command(&["serve", "--bind", "127.0.0.1:0"])
        .env("WHALE_LOG_FORMAT", format)
        .env("WHALE_WORKERS", "0")
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.contains("listening");
            seen.push(line);
            if done {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read).await.expect("the server said it was listening");
    child.kill().await.unwrap();
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_are_plain_off_a_terminal_or_json_when_asked() {
    // stderr is a pipe here: text without ANSI colour codes
    let text = logs_until_listening("text").await;
    assert!(text.iter().all(|l| !l.contains('\u{1b}')), "{text:?}");
    assert!(text.last().unwrap().contains("INFO"), "{text:?}");
    // one JSON object a line
    let lines = logs_until_listening("json").await;
    for line in &lines {
        let object: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(object["level"].is_string() && object["timestamp"].is_string(), "{line}");
    }
    let listening: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(listening["fields"]["message"], "listening", "{listening}");
    // another value is refused at start
    let refused = whale_command(&["serve", "--bind", "127.0.0.1:0"]).env("WHALE_LOG_FORMAT", "xml").output().await.unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("WHALE_LOG_FORMAT"), "{}", String::from_utf8_lossy(&refused.stderr));
}
