//! API keys: issued to a store, looked up by prefix on every request, revocable.

use super::schema::api_keys;
use crate::domain::api_key::{self, NewApiKey};
use crate::domain::ids::{ApiKeyId, StoreId};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// What a valid key grants.
#[derive(Debug, Clone)]
pub struct KeyGrant {
    pub store_id: StoreId,
    pub key_id: ApiKeyId,
    pub key_name: String,
    pub read_only: bool,
}

/// Issues a key for `store`; returns the secret (to show once).
pub async fn issue(conn: &mut AsyncPgConnection, store: StoreId, name: &str, read_only: bool) -> QueryResult<String> {
    let key = NewApiKey::generate();
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::store_id.eq(store.0),
            api_keys::id.eq(ApiKeyId::generate().0),
            api_keys::name.eq(name),
            api_keys::prefix.eq(&key.prefix),
            api_keys::secret_hash.eq(key.hash.as_slice()),
            api_keys::read_only.eq(read_only),
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
    let row: Option<(uuid::Uuid, uuid::Uuid, String, bool, Vec<u8>)> = api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .filter(api_keys::revoked_at.is_null())
        .select((api_keys::store_id, api_keys::id, api_keys::name, api_keys::read_only, api_keys::secret_hash))
        .first(conn)
        .await
        .optional()?;
    Ok(row.filter(|r| api_key::matches(presented, &r.4)).map(|(store, id, name, read_only, _)| KeyGrant {
        store_id: StoreId(store),
        key_id: ApiKeyId(id),
        key_name: name,
        read_only,
    }))
}

/// Revokes the key with this prefix (or whole key); returns whether a live key was revoked.
pub async fn revoke(conn: &mut AsyncPgConnection, key_or_prefix: &str) -> QueryResult<bool> {
    let prefix = api_key::prefix_of(key_or_prefix).unwrap_or(key_or_prefix);
    let n = diesel::update(api_keys::table)
        .filter(api_keys::prefix.eq(prefix))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(n > 0)
}
