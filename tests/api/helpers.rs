//! The test app: a server per test over the shared test database, a store per test, and small
//! helpers for sending GraphQL and reading errors.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use std::net::SocketAddr;
use whale_crm::config::{Config, ConnectionLimits, DatabaseConfig, HttpConfig, JobsConfig, LimitsConfig, ServerSecret, WebhooksConfig, WsLimits};
use whale_crm::db::gate::Shares;

/// The tests' server secret.
pub const TEST_SECRET: &str = "test-secret-of-at-least-32-characters";
use whale_crm::db::{api_keys, stores};
use whale_crm::domain::ids::StoreId;

/// The database tests use: `DATABASE_URL` (set by scripts/test.sh) or the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/whale_test".into())
}

pub fn test_config() -> Config {
    Config {
        database: DatabaseConfig {
            url: database_url(),
            pool_size: 8,
            connect_timeout_secs: 10,
            statement_timeout_secs: 15,
            shares: Shares { per_request: 2, per_store: 4, wait: std::time::Duration::from_secs(10) },
        },
        http: HttpConfig {
            bind: "127.0.0.1:0".into(),
            cors_origins: vec!["https://shop.example".into()],
            max_body_bytes: 256 * 1024,
            query_timeout_secs: 30,
            public_url: "http://whale.test".into(),
            metrics_token: None,
            metrics_open: true,
            metrics_refresh: std::time::Duration::from_millis(200),
            graphiql: true,
            websocket: WsLimits {
                init_timeout: std::time::Duration::from_secs(5),
                per_connection: 100,
                per_store: 1000,
                keepalive: std::time::Duration::from_secs(15),
            },
            // the defaults (connections.rs sets small timeouts and caps where it needs them)
            connections: ConnectionLimits::default(),
        },
        // tests send many requests quickly: a bucket they never empty, unless a test sets its
        // store's own
        limits: LimitsConfig { bucket_size: 10_000_000, bucket_restore: 10_000_000, ..LimitsConfig::default() },
        jobs: JobsConfig { metrics_interval_secs: 0, workers: 2, poll_ms: 200, lease_secs: 3, per_store: 1 },
        // the tests' receivers listen on loopback; retries come quickly
        webhooks: WebhooksConfig { timeout_secs: 5, first_retry_secs: 1, allow_private: true },
        secret: ServerSecret(TEST_SECRET.as_bytes().into()),
    }
}

/// A running server and a store of this test's own.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub store: StoreId,
    pub key: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(test_config()).await
    }

    pub async fn spawn_with(config: Config) -> Self {
        let addr = start_server(&config).await;
        let (store, key) = new_store("test store", false).await;
        Self { addr, client: reqwest::Client::new(), store, key }
    }

    /// Another server instance over the same database, for this test's store and key.
    pub async fn another_instance(&self, config: Config) -> Self {
        let addr = start_server(&config).await;
        Self { addr, client: reqwest::Client::new(), store: self.store, key: self.key.clone() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request with this store's key; returns the JSON body.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(&self.key, query, variables).await
    }

    /// POSTs a GraphQL request with `key`.
    pub async fn gql_as(&self, key: &str, query: &str, variables: Value) -> Value {
        self.client
            .post(self.url("/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json body")
    }

    /// Creates a customer from `input` (merged over a unique email) and returns its id.
    pub async fn create_customer(&self, input: Value) -> String {
        let body = self.gql(CREATE, json!({ "input": input })).await;
        assert_no_errors(&body);
        body["data"]["createCustomer"]["customer"]["id"].as_str().expect("id").to_owned()
    }
}

pub const CREATE: &str = "mutation($input: CustomerCreateInput!) {
  createCustomer(input: $input) {
    created
    customer { id email firstName lastName phone tags metadata totalOrders totalSpent createdAt updatedAt
               addresses { line1 city country phone isDefault } defaultAddress { country } }
  }
}";

/// Starts a server (with its workers) on a free port; returns its address.
async fn start_server(config: &Config) -> SocketAddr {
    let _ = tracing_subscriber::fmt().with_env_filter("warn,whale_crm=info").with_test_writer().try_init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let whale_crm::server::App { router, pool, notifications } = whale_crm::server::prepare(config).await.expect("server prepares");
    // Workers run until the test's runtime ends (a job cut short is taken over when its
    // lease runs out, by another test's workers).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    std::mem::forget(stop);
    whale_crm::server::start_workers(config, &pool, config.jobs.workers, &notifications, &stopped).expect("workers start");
    let limits = config.http.connections;
    tokio::spawn(whale_crm::http::listener::serve(listener, router, limits, std::future::pending()));
    addr
}

/// A new store with one key, straight through the data layer (as `whale-crm store create` does).
pub async fn new_store(name: &str, read_only: bool) -> (StoreId, String) {
    let mut conn = connection().await;
    let store = stores::create(&mut conn, name, "USD").await.expect("store");
    let key = api_keys::issue(&mut conn, store, "test", read_only).await.expect("key");
    (store, key)
}

pub async fn connection() -> AsyncPgConnection {
    AsyncPgConnection::establish(&database_url()).await.expect("database connection")
}

/// Runs SQL for test setup that the API cannot do yet (e.g. order totals).
pub async fn execute_sql(sql: &str) {
    diesel::sql_query(sql).execute(&mut connection().await).await.expect("setup SQL");
}

pub fn assert_no_errors(body: &Value) {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
}

/// The first error's `extensions.code`, failing when there is none.
pub fn error_code(body: &Value) -> String {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("expected an error: {body:#}")).to_owned()
}

/// The first error's `extensions.inputPath`, joined with dots.
pub fn error_path(body: &Value) -> String {
    let path = body["errors"][0]["extensions"]["inputPath"].as_array().unwrap_or_else(|| panic!("no inputPath: {body:#}"));
    path.iter().map(|p| p.as_str().expect("segment")).collect::<Vec<_>>().join(".")
}

/// A unique email for this test run.
pub fn unique_email(tag: &str) -> String {
    format!("{tag}.{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A WebSocket to `/graphql/ws`.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/graphql/ws` speaking `protocol` (`graphql-transport-ws` or `graphql-ws`).
pub async fn ws_connect(addr: SocketAddr, protocol: &str) -> Socket {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("websocket");
    socket
}

/// Sends a JSON message.
pub async fn ws_send(socket: &mut Socket, message: Value) {
    use futures_util::SinkExt;
    socket.send(tokio_tungstenite::tungstenite::Message::Text(message.to_string().into())).await.expect("send");
}

/// The next JSON message within `secs` seconds, skipping keep-alives (`ka`, pings); `None` when
/// the socket closes. Panics when nothing arrives in time.
pub async fn ws_next_within(socket: &mut Socket, secs: u64) -> Option<Value> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(secs), socket.next()).await.expect("a message in time")? {
            Ok(Message::Text(text)) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] != "ka" && value["type"] != "ping" {
                    return Some(value);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// The close code the server sends within `secs` seconds, skipping other messages; `None` when
/// the connection ends without one.
pub async fn ws_close_code(socket: &mut Socket, secs: u64) -> Option<u16> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(secs), socket.next()).await.expect("the socket closes in time")? {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

/// [`ws_next_within`] ten seconds.
pub async fn next_json(socket: &mut Socket) -> Option<Value> {
    ws_next_within(socket, 10).await
}

/// Connects and authenticates with `key`; panics unless acknowledged.
pub async fn ws_session(addr: SocketAddr, protocol: &str, key: &str) -> Socket {
    let mut socket = ws_connect(addr, protocol).await;
    ws_send(&mut socket, json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } })).await;
    let ack = next_json(&mut socket).await.expect("an answer to connection_init");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

/// How a test's webhook receiver answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: std::time::Duration,
    pub location: Option<String>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self { status, body: String::new(), delay: std::time::Duration::ZERO, location: None }
    }
}

/// A request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// A local HTTP server standing in for a store's webhook endpoint: it answers with the scripted
/// replies in turn (then 200) and hands every request it got to the test.
pub struct WebhookReceiver {
    pub url: String,
    pub received: tokio::sync::mpsc::UnboundedReceiver<Received>,
}

impl WebhookReceiver {
    pub async fn start(script: Vec<Reply>) -> Self {
        use axum::response::IntoResponse;
        let script = std::sync::Arc::new(std::sync::Mutex::new(std::collections::VecDeque::from(script)));
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        let handler = move |headers: axum::http::HeaderMap, body: String| {
            let reply = script.lock().unwrap().pop_front().unwrap_or_else(|| Reply::status(200));
            let tx = tx.clone();
            async move {
                let _ = tx.send(Received { headers, body });
                tokio::time::sleep(reply.delay).await;
                let mut response = (axum::http::StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
                if let Some(location) = reply.location {
                    response.headers_mut().insert(axum::http::header::LOCATION, location.parse().unwrap());
                }
                response
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks/whale", listener.local_addr().unwrap());
        let router = axum::Router::new().route("/hooks/whale", axum::routing::post(handler));
        tokio::spawn(async move { axum::serve(listener, router).await.expect("receiver") });
        Self { url, received }
    }

    /// The next request, within `secs` seconds.
    pub async fn next_within(&mut self, secs: u64) -> Received {
        tokio::time::timeout(std::time::Duration::from_secs(secs), self.received.recv()).await.expect("a delivery in time").expect("receiver running")
    }

    /// Whether a request arrives within `millis`.
    pub async fn gets_something_within(&mut self, millis: u64) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(millis), self.received.recv()).await.is_ok()
    }
}

pub const CREATE_ENDPOINT: &str = "mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id url events description secretHint createdAt } }
}";

impl TestApp {
    /// Creates a webhook endpoint at `url` for `events`; returns (id, secret).
    pub async fn create_endpoint(&self, url: &str, events: &[&str]) -> (String, String) {
        let body = self.gql(CREATE_ENDPOINT, json!({ "input": { "url": url, "events": events } })).await;
        assert_no_errors(&body);
        let created = &body["data"]["createWebhookEndpoint"];
        (created["endpoint"]["id"].as_str().unwrap().to_owned(), created["secret"].as_str().unwrap().to_owned())
    }
}

/// A `whale-crm` process configured like the tests' in-process servers (it may run other tests'
/// jobs, so it must run them the same way), killed when dropped.
pub fn whale_command(args: &[&str]) -> tokio::process::Command {
    let config = test_config();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_whale-crm"));
    command
        .args(args)
        .env("DATABASE_URL", database_url())
        .env("WHALE_SECRET", TEST_SECRET)
        .env("WHALE_PUBLIC_URL", &config.http.public_url)
        .env("WHALE_JOB_LEASE_SECS", config.jobs.lease_secs.to_string())
        .env("WHALE_JOBS_PER_STORE", config.jobs.per_store.to_string())
        .env("WHALE_WEBHOOK_ALLOW_PRIVATE", config.webhooks.allow_private.to_string())
        .env("WHALE_WEBHOOK_RETRY_SECS", config.webhooks.first_retry_secs.to_string())
        .env("WHALE_WEBHOOK_TIMEOUT_SECS", config.webhooks.timeout_secs.to_string())
        .env("WHALE_METRICS_INTERVAL_SECS", "0")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    command
}
