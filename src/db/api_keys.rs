//! API keys: issued to a store, looked up on a request (through the server's key cache), revocable.
//! Revoking a key, or changing what a store's keys grant, is announced on [`CHANNEL`] in the
//! same transaction, so every instance forgets what it cached and closes the key's WebSockets.

use super::schema::{api_keys, stores};
use crate::domain::api_key::{self, NewApiKey};
use crate::domain::ids::{ApiKeyId, StoreId};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

/// The channel key changes are announced on: `key:<prefix>` (revoked) or `store:<id>` (what
/// the store's keys grant changed).
pub const CHANNEL: &str = "whale_keys";

/// What a valid key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub store_id: StoreId,
    pub key_id: ApiKeyId,
    pub key_name: String,
    /// The key's public prefix (what revocations name).
    pub prefix: String,
    pub read_only: bool,
    /// Whether the key may introspect the schema (`__schema`, `__type`).
    pub introspection: bool,
    /// The store's own rate-limit bucket (size, points restored per second), if it has one.
    pub rate_limit: Option<(i32, i32)>,
}

/// How a key is issued.
#[derive(Debug, Clone, Copy)]
pub struct KeyOptions {
    pub read_only: bool,
    pub introspection: bool,
}

/// Issues a key for `store` (read-only or not, allowed to introspect); returns the secret (to
/// show once).
pub async fn issue(conn: &mut AsyncPgConnection, store: StoreId, name: &str, read_only: bool) -> QueryResult<String> {
    issue_with(conn, store, name, KeyOptions { read_only, introspection: true }).await
}

/// Issues a key for `store` with `options`; returns the secret (to show once).
pub async fn issue_with(conn: &mut AsyncPgConnection, store: StoreId, name: &str, options: KeyOptions) -> QueryResult<String> {
    let key = NewApiKey::generate();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::store_id.eq(store.0),
            api_keys::id.eq(ApiKeyId::generate().0),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&key.prefix),
            api_keys::secret_hash.eq(key.hash.as_slice()),
            api_keys::read_only.eq(options.read_only),
            api_keys::introspection.eq(options.introspection),
        ))
        .execute(conn)
        .await?;
    Ok(key.secret)
}

/// Resolves a presented key to its grant; `None` for unknown, malformed or revoked keys.
pub async fn authenticate(conn: &mut AsyncPgConnection, presented: &str) -> QueryResult<Option<KeyGrant>> {
    let Some(prefix) = api_key::prefix_of(presented) else {
        return Ok(None);
    };
    type Row = (uuid::Uuid, uuid::Uuid, String, bool, bool, Vec<u8>, Option<i32>, Option<i32>);
    let row: Option<Row> = api_keys::table
        .inner_join(stores::table)
        .filter(api_keys::prefix.eq(prefix))
        .filter(api_keys::revoked_at.is_null())
        .select((
            api_keys::store_id,
            api_keys::id,
            api_keys::name,
            api_keys::read_only,
            api_keys::introspection,
            api_keys::secret_hash,
            stores::rate_limit_bucket,
            stores::rate_limit_restore,
        ))
        .first(conn)
        .await
        .optional()?;
    Ok(row.filter(|r| api_key::matches(presented, &r.5)).map(|(store, id, name, read_only, introspection, _, bucket, restore)| KeyGrant {
        store_id: StoreId(store),
        key_id: ApiKeyId(id),
        key_name: name,
        prefix: prefix.to_owned(),
        read_only,
        introspection,
        rate_limit: bucket.zip(restore),
    }))
}

/// Revokes the key with this prefix (or whole key) and announces it; returns whether a live
/// key was revoked.
pub async fn revoke(conn: &mut AsyncPgConnection, key_or_prefix: &str) -> QueryResult<bool> {
    let prefix = api_key::prefix_of(key_or_prefix).unwrap_or(key_or_prefix).to_owned();
    conn.transaction(async move |conn| {
        let n = diesel::update(api_keys::table)
            .filter(api_keys::prefix.eq(&prefix))
            .filter(api_keys::revoked_at.is_null())
            .set(api_keys::revoked_at.eq(diesel::dsl::now))
            .execute(&mut *conn)
            .await?;
        if n > 0 {
            announce(conn, &format!("key:{prefix}")).await?;
        }
        Ok(n > 0)
    })
    .await
}

/// Tells every instance that what `store`'s keys grant changed.
pub async fn announce_store(conn: &mut AsyncPgConnection, store: StoreId) -> QueryResult<()> {
    announce(conn, &format!("store:{}", store.0)).await
}

async fn announce(conn: &mut AsyncPgConnection, payload: &str) -> QueryResult<()> {
    diesel::select(diesel::dsl::sql::<Text>("pg_notify(").bind::<Text, _>(CHANNEL).sql(", ").bind::<Text, _>(payload).sql(")::text"))
        .execute(conn)
        .await?;
    Ok(())
}

/// A change announced on [`CHANNEL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// The key with this prefix was revoked.
    Revoked { prefix: String },
    /// What this store's keys grant changed (e.g. its rate limit).
    Store(StoreId),
}

impl KeyChange {
    /// Reads a notification's payload.
    pub fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("key", prefix) => Some(Self::Revoked { prefix: prefix.to_owned() }),
            ("store", id) => uuid::Uuid::parse_str(id).ok().map(|id| Self::Store(StoreId(id))),
            _ => None,
        }
    }

    /// Whether the change concerns `grant`.
    pub fn concerns(&self, grant: &KeyGrant) -> bool {
        match self {
            Self::Revoked { prefix } => *prefix == grant.prefix,
            Self::Store(store) => *store == grant.store_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_round_trip_through_their_payloads() {
        assert_eq!(KeyChange::parse("key:abc123"), Some(KeyChange::Revoked { prefix: "abc123".into() }));
        let store = StoreId(uuid::Uuid::new_v4());
        assert_eq!(KeyChange::parse(&format!("store:{}", store.0)), Some(KeyChange::Store(store)));
        assert_eq!(KeyChange::parse("store:nope"), None);
        assert_eq!(KeyChange::parse("other"), None);
    }
}
