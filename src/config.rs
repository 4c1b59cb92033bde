//! Settings, read once at start from the environment (flags given to `serve` win).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `DATABASE_URL` | PostgreSQL connection URL | `postgres://postgres@127.0.0.1:5432/whale` |
//! | `WHALE_DB_POOL_SIZE` | connections in the pool | `16` |
//! | `WHALE_DB_TIMEOUT_SECS` | connect/recycle timeout, and how long one request may wait for connections in all | `5` |
//! | `WHALE_DB_STATEMENT_TIMEOUT_SECS` | longest one SQL statement may run (PostgreSQL cancels it) | `15` |
//! | `WHALE_DB_CONNECTIONS_PER_REQUEST` | pooled connections one request may hold at once | `2` |
//! | `WHALE_DB_CONNECTIONS_PER_STORE` | pooled connections one store's requests may hold at once | half the pool |
//! | `WHALE_BIND` | address `serve` listens on | `127.0.0.1:8080` |
//! | `WHALE_CORS_ORIGINS` | comma-separated origins allowed to call from browsers, or `*` | none |
//! | `WHALE_MAX_BODY_BYTES` | largest request body | `1048576` |
//! | `WHALE_MAX_DEPTH` | deepest query (fields nested in fields), introspection apart | `12` |
//! | `WHALE_MAX_INTROSPECTION_DEPTH` | deepest nesting inside `__schema` / `__type` | `16` |
//! | `WHALE_MAX_COMPLEXITY` | costliest query in points (a page costs `2 + first × each item`; see the README) | `20000` |
//! | `WHALE_MAX_QUERY_BYTES` | longest query text | `65536` |
//! | `WHALE_MAX_NESTING` | deepest bracket nesting in a query text (values and selections) | `64` |
//! | `WHALE_INTROSPECTION` | whether any key may introspect the schema (keys can also be denied one by one) | `true` |
//! | `WHALE_RATE_LIMIT_BUCKET` | points in a key's bucket, unless its store has its own | `1000` |
//! | `WHALE_RATE_LIMIT_RESTORE` | points restored to a bucket per second, unless its store has its own | `100` |
//! | `WHALE_QUERY_TIMEOUT_SECS` | longest a request (or a query or mutation over WebSocket) may run | `30` |
//! | `WHALE_HTTP_HEADER_TIMEOUT_SECS` | longest a client may take to send a request head (from connecting, or from its first byte on a kept-alive connection) | `10` |
//! | `WHALE_HTTP_IDLE_TIMEOUT_SECS` | how long a connection with no request in flight stays open | `30` |
//! | `WHALE_HTTP_BODY_TIMEOUT_SECS` | longest a client may take to send a request body | `60` |
//! | `WHALE_HTTP_MAX_CONNECTIONS` | connections open at once on an instance (WebSockets included); more are refused | `1024` |
//! | `WHALE_HTTP_MAX_CONNECTIONS_PER_ADDRESS` | connections open at once from one client address (IPv6: one /64) | `64` |
//! | `WHALE_WS_INIT_TIMEOUT_SECS` | how long a WebSocket has to send `connection_init` | `5` |
//! | `WHALE_WS_OPERATIONS_PER_CONNECTION` | operations (subscriptions) open at once on one WebSocket | `100` |
//! | `WHALE_WS_SUBSCRIPTIONS_PER_STORE` | subscriptions open at once for one store, per instance | `1000` |
//! | `WHALE_WS_KEEPALIVE_SECS` | how often an idle WebSocket is pinged | `15` |
//! | `WHALE_METRICS_INTERVAL_SECS` | how often RFM breakpoints refresh and due refits are queued; 0 = never | `300` |
//! | `WHALE_WORKERS` | job workers inside `serve` (`whale-crm worker` runs them alone); 0 = none | `2` |
//! | `WHALE_JOBS_POLL_MS` | how often idle workers look for due jobs besides being woken by NOTIFY | `2000` |
//! | `WHALE_JOBS_PER_STORE` | jobs of one store and lane running at once, over all instances (a slow webhook receiver holds at most this many workers) | half of `WHALE_WORKERS`, at least 1 |
//! | `WHALE_JOB_LEASE_SECS` | how long a claimed job stays a worker's without a heartbeat | `30` |
//! | `WHALE_METRICS_TOKEN` | a bearer token `/metrics` scrapers must send | none |
//! | `WHALE_METRICS_OPEN` | let `/metrics` answer without a token when `WHALE_METRICS_TOKEN` is not set | `false` (closed: 403) |
//! | `WHALE_METRICS_REFRESH_SECS` | how often the gauges `/metrics` shows (jobs, deliveries, data requests) are read from the database | `15` |
//! | `WHALE_LOG_FORMAT` | `text` (coloured only on a terminal) or `json` (one object a line); `RUST_LOG` picks what is logged | `text` |
//! | `WHALE_GRAPHIQL` | serve GraphiQL to browsers at `/graphql` (its assets from the binary) | `false` |
//! | `WHALE_PUBLIC_URL` | the base URL clients reach the server at (download links point there) | `http://` + the bind address |
//! | `WHALE_WEBHOOK_TIMEOUT_SECS` | longest a webhook delivery may take (connect, send, read the answer) | `10` |
//! | `WHALE_WEBHOOK_RETRY_SECS` | wait before a failed delivery's first retry; it doubles up to 4 h (14 attempts, about a day at the default) | `60` |
//! | `WHALE_WEBHOOK_ALLOW_PRIVATE` | let endpoints reach loopback, private and link-local addresses (development only) | `false` |
//! | `WHALE_SECRET` | the server's secret (≥ 32 characters), the same on every instance: keys erasure proofs and signs download links | random per process, with a warning |

use crate::db::gate::Shares;
pub use crate::http::listener::ConnectionLimits;
pub use crate::http::ws::session::Limits as WsLimits;
use std::env;
use std::time::Duration;
use std::str::FromStr;
use std::sync::Arc;

/// Database settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub pool_size: usize,
    pub connect_timeout_secs: u64,
    /// PostgreSQL's `statement_timeout` on every pooled connection.
    pub statement_timeout_secs: u64,
    /// How requests and stores share the pool.
    pub shares: Shares,
}

/// HTTP settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub bind: String,
    /// Origins allowed by CORS; `["*"]` allows any.
    pub cors_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub query_timeout_secs: u64,
    /// The base URL clients reach this server at (download links point there).
    pub public_url: String,
    /// Required of `/metrics` scrapers when set.
    pub metrics_token: Option<String>,
    /// Whether `/metrics` answers without a token when none is set.
    pub metrics_open: bool,
    /// How often the database gauges of `/metrics` are read.
    pub metrics_refresh: Duration,
    /// Whether browsers get GraphiQL at `/graphql`.
    pub graphiql: bool,
    /// WebSocket limits.
    pub websocket: WsLimits,
    /// Connection timeouts and caps.
    pub connections: ConnectionLimits,
}

/// GraphQL query limits and the default rate limit.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub max_depth: usize,
    pub max_introspection_depth: usize,
    /// The costliest operation, in points (a store's bucket may be smaller).
    pub max_complexity: usize,
    pub max_query_bytes: usize,
    pub max_nesting: usize,
    pub introspection: bool,
    /// Points in a key's bucket.
    pub bucket_size: u32,
    /// Points restored per second.
    pub bucket_restore: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_introspection_depth: 16,
            max_complexity: 20_000,
            max_query_bytes: 64 * 1024,
            max_nesting: 64,
            introspection: true,
            bucket_size: 1000,
            bucket_restore: 100,
        }
    }
}

/// Background work.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Seconds between metrics passes; 0 turns them off.
    pub metrics_interval_secs: u64,
    /// Job workers in this process.
    pub workers: usize,
    /// Idle workers' polling interval (they are also woken by NOTIFY).
    pub poll_ms: u64,
    /// A claimed job's lease, renewed by its worker every third of it.
    pub lease_secs: u64,
    /// Jobs of one store and lane that may run at once, over all instances.
    pub per_store: usize,
}

/// Webhook deliveries.
#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// The longest one delivery attempt may take.
    pub timeout_secs: u64,
    /// The wait before a failed delivery's first retry.
    pub first_retry_secs: u64,
    /// Whether endpoints may reach loopback, private and link-local addresses.
    pub allow_private: bool,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self { timeout_secs: 10, first_retry_secs: 60, allow_private: false }
    }
}

impl WebhooksConfig {
    pub fn from_environment() -> anyhow::Result<Self> {
        let default = Self::default();
        Ok(Self {
            timeout_secs: var_or("WHALE_WEBHOOK_TIMEOUT_SECS", default.timeout_secs)?.max(1),
            first_retry_secs: var_or("WHALE_WEBHOOK_RETRY_SECS", default.first_retry_secs)?.max(1),
            allow_private: var_or("WHALE_WEBHOOK_ALLOW_PRIVATE", default.allow_private)?,
        })
    }
}

/// The server's secret, shared by every instance: it keys erasure proofs.
#[derive(Clone)]
pub struct ServerSecret(pub Arc<[u8]>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(..)")
    }
}

impl ServerSecret {
    /// Shortest accepted `WHALE_SECRET`.
    pub const MIN_CHARS: usize = 32;

    pub fn from_environment() -> anyhow::Result<Self> {
        match env::var("WHALE_SECRET") {
            Ok(secret) if secret.chars().count() >= Self::MIN_CHARS => Ok(Self(Arc::from(secret.into_bytes()))),
            Ok(_) => anyhow::bail!("WHALE_SECRET must be at least {} characters", Self::MIN_CHARS),
            Err(_) => {
                tracing::warn!("WHALE_SECRET is not set: using a random secret, so erasure proofs made by this process cannot be checked by another or after a restart");
                Ok(Self(Arc::from(rand::random::<[u8; 32]>().to_vec())))
            }
        }
    }
}

/// Everything the server needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub http: HttpConfig,
    pub limits: LimitsConfig,
    pub jobs: JobsConfig,
    pub webhooks: WebhooksConfig,
    pub secret: ServerSecret,
}

/// The database URL used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/whale";

impl DatabaseConfig {
    pub fn from_environment() -> anyhow::Result<Self> {
        let pool_size: usize = var_or("WHALE_DB_POOL_SIZE", 16)?;
        let connect_timeout_secs = var_or("WHALE_DB_TIMEOUT_SECS", 5)?;
        Ok(Self {
            url: env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned()),
            pool_size,
            connect_timeout_secs,
            statement_timeout_secs: var_or("WHALE_DB_STATEMENT_TIMEOUT_SECS", 15)?,
            shares: Shares {
                per_request: var_or("WHALE_DB_CONNECTIONS_PER_REQUEST", 2)?,
                per_store: var_or("WHALE_DB_CONNECTIONS_PER_STORE", pool_size.div_ceil(2))?,
                wait: Duration::from_secs(connect_timeout_secs),
            },
        })
    }
}

impl HttpConfig {
    pub fn from_environment() -> anyhow::Result<Self> {
        let origins = env::var("WHALE_CORS_ORIGINS").unwrap_or_default();
        let bind = env::var("WHALE_BIND").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
        Ok(Self {
            public_url: env::var("WHALE_PUBLIC_URL").unwrap_or_else(|_| format!("http://{bind}")),
            metrics_token: env::var("WHALE_METRICS_TOKEN").ok().filter(|t| !t.trim().is_empty()),
            metrics_open: var_or("WHALE_METRICS_OPEN", false)?,
            metrics_refresh: Duration::from_secs(var_or("WHALE_METRICS_REFRESH_SECS", 15u64)?.max(1)),
            graphiql: var_or("WHALE_GRAPHIQL", false)?,
            bind,
            cors_origins: origins.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
            max_body_bytes: var_or("WHALE_MAX_BODY_BYTES", 1 << 20)?,
            query_timeout_secs: var_or("WHALE_QUERY_TIMEOUT_SECS", 30)?,
            websocket: WsLimits {
                init_timeout: Duration::from_secs(var_or("WHALE_WS_INIT_TIMEOUT_SECS", 5)?),
                per_connection: var_or("WHALE_WS_OPERATIONS_PER_CONNECTION", 100)?,
                per_store: var_or("WHALE_WS_SUBSCRIPTIONS_PER_STORE", 1000)?,
                keepalive: Duration::from_secs(var_or("WHALE_WS_KEEPALIVE_SECS", 15u64)?.max(1)),
            },
            connections: connection_limits()?,
        })
    }
}

fn connection_limits() -> anyhow::Result<ConnectionLimits> {
    let default = ConnectionLimits::default();
    let secs = |name: &str, default: Duration| anyhow::Ok(Duration::from_secs(var_or(name, default.as_secs())?.max(1)));
    Ok(ConnectionLimits {
        header_timeout: secs("WHALE_HTTP_HEADER_TIMEOUT_SECS", default.header_timeout)?,
        idle_timeout: secs("WHALE_HTTP_IDLE_TIMEOUT_SECS", default.idle_timeout)?,
        body_timeout: secs("WHALE_HTTP_BODY_TIMEOUT_SECS", default.body_timeout)?,
        max_connections: var_or("WHALE_HTTP_MAX_CONNECTIONS", default.max_connections)?.max(1),
        max_connections_per_address: var_or("WHALE_HTTP_MAX_CONNECTIONS_PER_ADDRESS", default.max_connections_per_address)?.max(1),
    })
}

impl LimitsConfig {
    pub fn from_environment() -> anyhow::Result<Self> {
        let default = Self::default();
        Ok(Self {
            max_depth: var_or("WHALE_MAX_DEPTH", default.max_depth)?,
            max_introspection_depth: var_or("WHALE_MAX_INTROSPECTION_DEPTH", default.max_introspection_depth)?,
            max_complexity: var_or("WHALE_MAX_COMPLEXITY", default.max_complexity)?,
            max_query_bytes: var_or("WHALE_MAX_QUERY_BYTES", default.max_query_bytes)?,
            max_nesting: var_or("WHALE_MAX_NESTING", default.max_nesting)?,
            introspection: var_or("WHALE_INTROSPECTION", default.introspection)?,
            bucket_size: var_or("WHALE_RATE_LIMIT_BUCKET", default.bucket_size)?.max(1),
            bucket_restore: var_or("WHALE_RATE_LIMIT_RESTORE", default.bucket_restore)?.max(1),
        })
    }
}

impl JobsConfig {
    pub fn from_environment() -> anyhow::Result<Self> {
        let workers = var_or("WHALE_WORKERS", 2)?;
        Ok(Self {
            metrics_interval_secs: var_or("WHALE_METRICS_INTERVAL_SECS", 300)?,
            workers,
            poll_ms: var_or("WHALE_JOBS_POLL_MS", 2000)?.max(10),
            lease_secs: var_or("WHALE_JOB_LEASE_SECS", 30)?.max(1),
            per_store: var_or("WHALE_JOBS_PER_STORE", (workers / 2).max(1))?.max(1),
        })
    }
}

impl Config {
    pub fn from_environment() -> anyhow::Result<Self> {
        Ok(Self {
            database: DatabaseConfig::from_environment()?,
            http: HttpConfig::from_environment()?,
            limits: LimitsConfig::from_environment()?,
            jobs: JobsConfig::from_environment()?,
            webhooks: WebhooksConfig::from_environment()?,
            secret: ServerSecret::from_environment()?,
        })
    }
}

fn var_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match env::var(name) {
        Ok(text) => text.trim().parse().map_err(|_| anyhow::anyhow!("{name}={text:?} is not a valid value")),
        Err(_) => Ok(default),
    }
}
