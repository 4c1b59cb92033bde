//! Relay connections: page sizes, opaque cursors and `PageInfo`. Cursors are base64url JSON of
//! the keyset position (never an offset), so they stay valid while rows are inserted.

use super::leaf::{self, Leaf, LeafFields};
use crate::error::AppError;
use crate::leaf_object;
use async_graphql::{Context, Value};
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 25;
/// The largest `first` accepted.
pub const MAX_PAGE_SIZE: i32 = 250;

/// Checks `first` (0 to 250, default 25).
pub fn page_size(first: Option<i32>) -> Result<i64, AppError> {
    let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
    if !(0..=MAX_PAGE_SIZE).contains(&first) {
        return Err(AppError::bad_input("first", format!("must be between 0 and {MAX_PAGE_SIZE}")));
    }
    Ok(i64::from(first))
}

/// Encodes a position as an opaque cursor.
pub fn encode_cursor<T: Serialize>(position: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).expect("positions serialise"))
}

/// Decodes the cursor given as argument `arg`.
pub fn decode_cursor<T: DeserializeOwned>(arg: &str, cursor: &str) -> Result<T, AppError> {
    let bad = || AppError::bad_input(arg, "is not a cursor returned by this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

/// The instant `micros` (since the Unix epoch) when a cursor may hold it: years 1 to 9999,
/// which RFC 3339 and PostgreSQL's `timestamptz` both hold (a hand-made cursor beyond them
/// would otherwise reach the database as a value it refuses).
pub fn cursor_instant(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros).filter(|t| (1..=9999).contains(&t.year()))
}

/// Where a page sits in its list.
#[derive(Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

leaf_object! {
    /// Where a page sits in its list.
    PageInfo(this) {
        /// Whether more items follow this page.
        has_next_page "hasNextPage": bool = this.has_next_page,
        /// Whether items precede this page (true when `after` was given).
        has_previous_page "hasPreviousPage": bool = this.has_previous_page,
        /// The cursor of the first item on this page.
        start_cursor "startCursor": Option<String> = this.start_cursor.clone(),
        /// The cursor of the last item on this page: pass it as `after` for the next page.
        end_cursor "endCursor": Option<String> = this.end_cursor.clone(),
    }
}

/// A keyset page: the rows kept, and whether others follow or precede them. Cursors are encoded
/// only when asked for (`edges`, `pageInfo`): a nested page often shows hundreds of rows by their
/// fields alone.
pub struct KeysetPage<T> {
    pub rows: Vec<T>,
    has_next_page: bool,
    has_previous_page: bool,
}

impl<T> KeysetPage<T> {
    /// `rows` were fetched with one more than `first` to learn whether more follow; keeps `first`
    /// of them.
    pub fn new(mut rows: Vec<T>, first: i64, has_previous_page: bool) -> Self {
        let has_next_page = rows.len() as i64 > first;
        rows.truncate(first as usize);
        Self { rows, has_next_page, has_previous_page }
    }

    /// The page's `PageInfo`, with the cursors (made by `cursor`) of its first and last rows.
    pub fn page_info(&self, cursor: impl Fn(&T) -> String) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            start_cursor: self.rows.first().map(&cursor),
            end_cursor: self.rows.last().map(&cursor),
        }
    }
}

impl<T: LeafFields> KeysetPage<Leaf<T>> {
    /// The value of the connection field `ctx` resolves, directly: `nodes`, `edges` (each made
    /// by `edge`) or `pageInfo` (cursors made by `cursor`); `None` for anything else.
    pub fn nested<E: LeafFields>(&self, ctx: &Context<'_>, edge: impl Fn(&Leaf<T>) -> E, cursor: impl Fn(&Leaf<T>) -> String) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "nodes" => leaf::list(ctx, self.rows.iter().map(|node| &node.0)),
            "edges" => leaf::list(ctx, &self.rows.iter().map(edge).collect::<Vec<_>>()),
            "pageInfo" => leaf::object(ctx, &self.page_info(cursor)),
            _ => None,
        }
    }
}

/// The value of an edge's field `ctx` resolves, directly: its `node`; `None` for anything else.
pub fn edge_nested<T: LeafFields>(ctx: &Context<'_>, node: &T) -> Option<Value> {
    match ctx.item.node.name.node.as_str() {
        "node" => leaf::object(ctx, node),
        _ => None,
    }
}

/// A keyset page's rows and its `PageInfo` (see [`KeysetPage::new`]).
pub fn keyset_page<T>(rows: Vec<T>, first: i64, has_previous_page: bool, cursor: impl Fn(&T) -> String) -> (Vec<T>, PageInfo) {
    let page = KeysetPage::new(rows, first, has_previous_page);
    let page_info = page.page_info(cursor);
    (page.rows, page_info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_bounds() {
        assert_eq!(page_size(None).unwrap(), 25);
        assert_eq!(page_size(Some(0)).unwrap(), 0);
        assert_eq!(page_size(Some(250)).unwrap(), 250);
        assert!(page_size(Some(251)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(&(1, "a"));
        assert_eq!(decode_cursor::<(i32, String)>("after", &cursor).unwrap(), (1, "a".into()));
        assert!(decode_cursor::<(i32, String)>("after", "not a cursor!").is_err());
        assert!(decode_cursor::<(i32, String)>("after", &encode_cursor(&"x")).is_err());
    }

    #[test]
    fn cursor_instants_stay_within_what_postgresql_holds() {
        assert!(cursor_instant(0).is_some());
        assert!(cursor_instant(253_402_300_799_000_000).is_some());
        assert!(cursor_instant(253_402_300_800_000_000).is_none());
        assert!(cursor_instant(i64::MIN).is_none());
    }
}
