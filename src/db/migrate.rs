//! Embedded migrations, applied under an advisory lock so that several instances (or test
//! processes) starting at once apply each migration exactly once; and creation of the database
//! itself when the server has none by that name yet.

use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");
/// An arbitrary constant naming this application's migration lock.
const MIGRATION_LOCK: i64 = 0x5748_414c_455f_4d49;

/// Connects to `url`, creating its database first when the server does not have it, and applies
/// every pending migration. Returns how many were applied.
pub async fn run(url: &str) -> anyhow::Result<usize> {
    let conn = match AsyncPgConnection::establish(url).await {
        Ok(conn) => conn,
        Err(err) if err.to_string().contains("does not exist") => {
            create_database(url).await?;
            AsyncPgConnection::establish(url).await?
        }
        Err(err) => return Err(err.into()),
    };
    let mut conn = conn;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = tokio::task::block_in_place(|| harness.run_pending_migrations(MIGRATIONS).map(|v| v.len()));
    let mut conn = harness.into_inner();
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn).await?;
    applied.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Creates the database named in `url` by connecting to the server's `postgres` database.
async fn create_database(url: &str) -> anyhow::Result<()> {
    let (server, name) = split_database(url)?;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        anyhow::bail!("refusing to create a database named {name:?}: use letters, digits and _");
    }
    let mut conn = AsyncPgConnection::establish(&format!("{server}/postgres")).await?;
    match diesel::sql_query(format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await {
        Ok(_) => tracing::info!(database = name, "created database"),
        // Another process created it first.
        Err(err) if err.to_string().contains("already exists") => {}
        Err(err) => return Err(err.into()),
    }
    Ok(())
}

/// Splits `postgres://user@host:port/name?opts` into the part before the path and the name.
fn split_database(url: &str) -> anyhow::Result<(String, String)> {
    let without_query = url.split('?').next().unwrap_or(url);
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    let slash = without_query[scheme_end..]
        .rfind('/')
        .map(|i| i + scheme_end)
        .ok_or_else(|| anyhow::anyhow!("DATABASE_URL names no database"))?;
    Ok((without_query[..slash].to_owned(), without_query[slash + 1..].to_owned()))
}

#[cfg(test)]
mod tests {
    use super::split_database;

    #[test]
    fn splits_the_database_name_off() {
        let (server, name) = split_database("postgres://whale:pw@127.0.0.1:5432/whale_test?sslmode=disable").unwrap();
        assert_eq!((server.as_str(), name.as_str()), ("postgres://whale:pw@127.0.0.1:5432", "whale_test"));
        assert!(split_database("postgres://host").is_err());
    }
}
