//! Bearer-key authentication: `Authorization: Bearer wk_live_...` → the store it belongs to.

use crate::db::DbPool;
use crate::db::api_keys::{self, KeyGrant};
use crate::error::AppError;

/// The key in an `Authorization` header value (`Bearer <key>`, scheme case-insensitive).
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
}

/// Resolves a presented key; unknown, malformed and revoked keys are all `Unauthenticated`.
pub async fn authenticate(pool: &DbPool, key: Option<&str>) -> Result<KeyGrant, AppError> {
    let key = key.ok_or(AppError::Unauthenticated)?;
    let mut conn = pool.get().await?;
    api_keys::authenticate(&mut conn, key).await?.ok_or(AppError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn reads_bearer_headers() {
        assert_eq!(bearer("Bearer wk_live_x"), Some("wk_live_x"));
        assert_eq!(bearer("bearer  wk_live_x "), Some("wk_live_x"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("wk_live_x"), None);
    }
}
