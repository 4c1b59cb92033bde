//! The test app: a server per test over the shared test database, a store per test, and small
//! helpers for sending GraphQL and reading errors.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use std::net::SocketAddr;
use whale_crm::config::{Config, DatabaseConfig, HttpConfig, JobsConfig, LimitsConfig, ServerSecret};

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
        database: DatabaseConfig { url: database_url(), pool_size: 8, connect_timeout_secs: 10 },
        http: HttpConfig {
            bind: "127.0.0.1:0".into(),
            cors_origins: vec!["https://shop.example".into()],
            max_body_bytes: 256 * 1024,
            query_timeout_secs: 30,
            public_url: "http://whale.test".into(),
        },
        limits: LimitsConfig { max_depth: 12, max_complexity: 20_000 },
        jobs: JobsConfig { metrics_interval_secs: 0, workers: 2, poll_ms: 200, lease_secs: 3 },
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
        let _ = tracing_subscriber::fmt().with_env_filter("warn,whale_crm=info").with_test_writer().try_init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (router, pool) = whale_crm::server::prepare(&config).await.expect("server prepares");
        // Workers run until the test's runtime ends (a job cut short is taken over when its
        // lease runs out, by another test's workers).
        let (stop, stopped) = tokio::sync::watch::channel(false);
        std::mem::forget(stop);
        whale_crm::server::start_workers(&config, &pool, config.jobs.workers, &stopped);
        tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
        let (store, key) = new_store("test store", false).await;
        Self { addr, client: reqwest::Client::new(), store, key }
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
