//! The `whale-crm` command: serve the API, migrate, manage stores and keys, load demo data.

use clap::{Parser, Subcommand};
use serde_json::json;
use whale_crm::config::{Config, DatabaseConfig};
use whale_crm::db::api_keys::KeyOptions;
use whale_crm::db::{self, api_keys, stores};
use whale_crm::domain::ids::StoreId;
use whale_crm::bench::BenchConfig;
use whale_crm::{seed, server};

#[derive(Parser)]
#[command(name = "whale-crm", version, about = "Whale CRM: a GraphQL customer CRM API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve the API.
    Serve {
        /// Address to listen on (overrides WHALE_BIND).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Run job workers only (no HTTP), until SIGTERM; `serve` runs WHALE_WORKERS of its own.
    Worker {
        /// How many workers.
        #[arg(long, default_value_t = 2)]
        count: usize,
    },
    /// Create the database if needed, apply pending migrations and exit.
    Migrate,
    /// Manage stores.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Measure the nested customer page under load (this process is the load generator) next to
    /// the same SQL run by pgbench; prints a Markdown table row.
    Bench {
        /// The running server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An API key of the store to page through.
        #[arg(long)]
        key: String,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Seconds to measure each side in each round.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Rounds, each measuring the API and then pgbench (the table shows medians, so a
        /// moment of noise on a shared machine moves one round, not the result).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Customers per page.
        #[arg(long, default_value_t = 50)]
        first: i32,
        /// Skip the pgbench ceiling.
        #[arg(long)]
        no_pgbench: bool,
    },
    /// Load data: `--demo`, or `--customers N [--events-per-customer M]` for benchmarks.
    /// Prints {"store_id", "api_key"} of the store loaded.
    Seed {
        /// A demo store: 300 believable customers with two years of history.
        #[arg(long, conflicts_with = "customers")]
        demo: bool,
        /// A new store with this many customers (benchmark data).
        #[arg(long)]
        customers: Option<usize>,
        /// Events per customer (default: a natural history, 0 to a few dozen).
        #[arg(long, requires = "customers")]
        events_per_customer: Option<usize>,
        /// Name of the store.
        #[arg(long, default_value = "Whale Demo Store")]
        store: String,
        /// Random seed (the same seed loads the same people and histories).
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Create a store and its first key; prints {"store_id", "api_key"} (the key is shown once).
    Create {
        #[arg(long)]
        name: String,
        /// The store's currency (ISO 4217).
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Make the first key read-only.
        #[arg(long)]
        read_only: bool,
        /// Keep the first key from introspecting the schema.
        #[arg(long)]
        no_introspection: bool,
    },
    /// Give a store its own rate-limit bucket, or back the server's default (`--default`).
    Limits {
        /// The store (`store_...`).
        #[arg(long)]
        store: String,
        /// Points in each of the store's keys' buckets (the costliest request it can run).
        #[arg(long, required_unless_present = "default", requires = "restore")]
        bucket: Option<u32>,
        /// Points restored to a bucket per second.
        #[arg(long, required_unless_present = "default")]
        restore: Option<u32>,
        /// Back to the server's defaults (WHALE_RATE_LIMIT_BUCKET, WHALE_RATE_LIMIT_RESTORE).
        #[arg(long, conflicts_with_all = ["bucket", "restore"])]
        default: bool,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Issue another key for a store; prints {"store_id", "api_key"}.
    Create {
        /// The store (`store_...`).
        #[arg(long)]
        store: String,
        #[arg(long, default_value = "default")]
        name: String,
        #[arg(long)]
        read_only: bool,
        /// Keep the key from introspecting the schema (production keys need not).
        #[arg(long)]
        no_introspection: bool,
    },
    /// Revoke a key, given whole or by its 12-character prefix.
    Revoke { key: String },
}

/// mimalloc: the server allocates many small, short-lived values per GraphQL field, across
/// threads, where it is markedly faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logs()?;
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { bind } => {
            let mut config = Config::from_environment()?;
            if let Some(bind) = bind {
                if std::env::var("WHALE_PUBLIC_URL").is_err() {
                    config.http.public_url = format!("http://{bind}");
                }
                config.http.bind = bind;
            }
            let listener = tokio::net::TcpListener::bind(&config.http.bind).await?;
            server::serve(&config, listener, server::shutdown_signal()).await
        }
        Command::Worker { count } => server::work(&Config::from_environment()?, count, server::shutdown_signal()).await,
        Command::Migrate => {
            let config = DatabaseConfig::from_environment()?;
            let applied = db::migrate::run(&config.url).await?;
            eprintln!("applied {applied} migration(s)");
            Ok(())
        }
        Command::Store { command: StoreCommand::Create { name, currency, read_only, no_introspection } } => {
            let mut conn = connection().await?;
            let name = name.trim();
            anyhow::ensure!((1..=255).contains(&name.chars().count()), "--name must be 1 to 255 characters");
            anyhow::ensure!(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()), "--currency must be like USD");
            let store = stores::create(&mut conn, name, &currency).await?;
            let key = api_keys::issue_with(&mut conn, store, "default", KeyOptions { read_only, introspection: !no_introspection }).await?;
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
        Command::Store { command: StoreCommand::Limits { store, bucket, restore, default: _ } } => {
            let store = StoreId::parse(&store).map_err(|e| anyhow::anyhow!("--store {e}"))?;
            let limit = match (bucket, restore) {
                (Some(bucket), Some(restore)) => {
                    anyhow::ensure!(bucket > 0 && restore > 0, "--bucket and --restore must be positive");
                    Some((i32::try_from(bucket)?, i32::try_from(restore)?))
                }
                _ => None,
            };
            let mut conn = connection().await?;
            anyhow::ensure!(stores::set_rate_limit(&mut conn, store, limit).await?, "no such store");
            eprintln!("{}", match limit {
                Some((bucket, restore)) => format!("the store's keys now have buckets of {bucket} points, restored at {restore} a second"),
                None => "the store's keys now have the server's default buckets".into(),
            });
            Ok(())
        }
        Command::Key { command: KeyCommand::Create { store, name, read_only, no_introspection } } => {
            let store = StoreId::parse(&store).map_err(|e| anyhow::anyhow!("--store {e}"))?;
            let mut conn = connection().await?;
            let key = api_keys::issue_with(&mut conn, store, &name, KeyOptions { read_only, introspection: !no_introspection }).await?;
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
        Command::Key { command: KeyCommand::Revoke { key } } => {
            let mut conn = connection().await?;
            anyhow::ensure!(api_keys::revoke(&mut conn, &key).await?, "no live key with that prefix");
            eprintln!("revoked");
            Ok(())
        }
        Command::Bench { url, key, concurrency, seconds, rounds, first, no_pgbench } => {
            bench(BenchConfig { url, key, concurrency, duration: std::time::Duration::from_secs(seconds), first }, rounds.max(1), no_pgbench).await
        }
        Command::Seed { demo, customers, events_per_customer, store, seed } => {
            let mut conn = connection().await?;
            let (store, key) = match (demo, customers) {
                (true, _) => seed::demo::load(&mut conn, &store).await?,
                (false, Some(count)) => {
                    let id = stores::create(&mut conn, &store, "USD").await?;
                    let key = api_keys::issue(&mut conn, id, "seed", false).await?;
                    let events = events_per_customer.map_or(seed::bulk::Events::Natural, seed::bulk::Events::Exactly);
                    let started = std::time::Instant::now();
                    let loaded = seed::bulk::load(&mut conn, id, count, events, seed).await?;
                    eprintln!(
                        "loaded {} customers, {} events, {} notes in {:.1} s",
                        loaded.customers,
                        loaded.events,
                        loaded.notes,
                        started.elapsed().as_secs_f64()
                    );
                    (id, key)
                }
                (false, None) => anyhow::bail!("say what to load: --demo, or --customers N"),
            };
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
    }
}

async fn bench(config: BenchConfig, rounds: usize, no_pgbench: bool) -> anyhow::Result<()> {
    let script = if no_pgbench { None } else { Some(pgbench_script(&config).await?) };
    let db = DatabaseConfig::from_environment()?;
    let mut results = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let api = whale_crm::bench::http_load(&config).await?;
        let ceiling = match &script {
            Some(script) => Some(whale_crm::bench::pgbench(&db.url, script, config.concurrency, config.duration)?),
            None => None,
        };
        results.push(whale_crm::bench::Round { api, ceiling });
    }
    if let Some(script) = &script {
        std::fs::remove_dir_all(script.parent().unwrap_or(script))?;
    }
    print!("{}", whale_crm::bench::table(&config, &results));
    Ok(())
}

/// Writes the pgbench script for the page the benchmark requests (its store and customers).
async fn pgbench_script(config: &BenchConfig) -> anyhow::Result<std::path::PathBuf> {
    let mut conn = connection().await?;
    let grant = api_keys::authenticate(&mut conn, &config.key).await?.ok_or_else(|| anyhow::anyhow!("unknown key"))?;
    let page = whale_crm::db::customer_list::page(
        &mut conn,
        grant.store_id,
        &Default::default(),
        whale_crm::db::customer_list::SortKey::CreatedAt,
        whale_crm::db::customer_list::Direction::Desc,
        None,
        i64::from(config.first) + 1,
    )
    .await?;
    let ids: Vec<uuid::Uuid> = page.iter().take(config.first as usize).map(|r| r.id).collect();
    let dir = std::env::temp_dir().join(format!("whale-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("nested_page.sql");
    let prefix = whale_crm::domain::api_key::prefix_of(&config.key).unwrap_or_default();
    whale_crm::bench::write_pgbench_script(&script, prefix, grant.store_id.0, &ids, config.first)?;
    Ok(script)
}

/// A single connection after applying pending migrations (commands run against a ready schema).
async fn connection() -> anyhow::Result<diesel_async::AsyncPgConnection> {
    use diesel_async::AsyncConnection;
    let config = DatabaseConfig::from_environment()?;
    db::migrate::run(&config.url).await?;
    Ok(diesel_async::AsyncPgConnection::establish(&config.url).await?)
}

/// Logs to stderr: `RUST_LOG` picks what; `WHALE_LOG_FORMAT=json` writes one JSON object a line
/// (for log collectors), otherwise text, coloured only when stderr is a terminal.
fn init_logs() -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match std::env::var("WHALE_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().with_current_span(true).init(),
        Ok("text") | Err(_) => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        Ok(other) => anyhow::bail!("WHALE_LOG_FORMAT={other:?} is not a valid value (text or json)"),
    }
    Ok(())
}
