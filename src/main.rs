//! The `whale-crm` command: serve the API, migrate, manage stores and keys, load demo data.

use clap::{Parser, Subcommand};
use serde_json::json;
use whale_crm::config::{Config, DatabaseConfig};
use whale_crm::db::{self, api_keys, stores};
use whale_crm::domain::ids::StoreId;
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
    /// Load data.
    Seed {
        /// A demo store with a few hundred believable customers; prints its key.
        #[arg(long)]
        demo: bool,
        /// Name of the store to create.
        #[arg(long, default_value = "Whale Demo Store")]
        store: String,
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
    },
    /// Revoke a key, given whole or by its 12-character prefix.
    Revoke { key: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { bind } => {
            let mut config = Config::from_environment()?;
            if let Some(bind) = bind {
                config.http.bind = bind;
            }
            let listener = tokio::net::TcpListener::bind(&config.http.bind).await?;
            server::serve(&config, listener, server::shutdown_signal()).await
        }
        Command::Migrate => {
            let config = DatabaseConfig::from_environment()?;
            let applied = db::migrate::run(&config.url).await?;
            eprintln!("applied {applied} migration(s)");
            Ok(())
        }
        Command::Store { command: StoreCommand::Create { name, currency, read_only } } => {
            let mut conn = connection().await?;
            let name = name.trim();
            anyhow::ensure!((1..=255).contains(&name.chars().count()), "--name must be 1 to 255 characters");
            anyhow::ensure!(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()), "--currency must be like USD");
            let store = stores::create(&mut conn, name, &currency).await?;
            let key = api_keys::issue(&mut conn, store, "default", read_only).await?;
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
        Command::Key { command: KeyCommand::Create { store, name, read_only } } => {
            let store = StoreId::parse(&store).map_err(|e| anyhow::anyhow!("--store {e}"))?;
            let mut conn = connection().await?;
            let key = api_keys::issue(&mut conn, store, &name, read_only).await?;
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
        Command::Key { command: KeyCommand::Revoke { key } } => {
            let mut conn = connection().await?;
            anyhow::ensure!(api_keys::revoke(&mut conn, &key).await?, "no live key with that prefix");
            eprintln!("revoked");
            Ok(())
        }
        Command::Seed { demo, store } => {
            anyhow::ensure!(demo, "say what to load: --demo");
            let mut conn = connection().await?;
            let (store, key) = seed::demo::load(&mut conn, &store).await?;
            println!("{}", json!({ "store_id": store.to_string(), "api_key": key }));
            Ok(())
        }
    }
}

/// A single connection after applying pending migrations (commands run against a ready schema).
async fn connection() -> anyhow::Result<diesel_async::AsyncPgConnection> {
    use diesel_async::AsyncConnection;
    let config = DatabaseConfig::from_environment()?;
    db::migrate::run(&config.url).await?;
    Ok(diesel_async::AsyncPgConnection::establish(&config.url).await?)
}
