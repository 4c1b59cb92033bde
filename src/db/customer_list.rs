//! Listing customers: search, filters, and keyset pagination on each sort key (nulls last in
//! both directions, ties broken by id). Sort columns and directions come from closed enums; every
//! value is a bound parameter.

use super::customers::CustomerRow;
use super::schema::customers;
use super::segments::Membership;
use crate::domain::ids::StoreId;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreatedAt,
    UpdatedAt,
    LastOrderAt,
    TotalSpent,
    TotalOrders,
    Email,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::LastOrderAt => "last_order_at",
            Self::TotalSpent => "total_spent",
            Self::TotalOrders => "total_orders",
            Self::Email => "email_lower",
        }
    }

    /// Whether `value` is a value of this key (what a cursor for this sort can hold): a time for
    /// the times (null too for `last_order_at`, the only nullable one), a number for the amounts
    /// and counts, text without NUL characters for the email.
    pub fn admits(self, value: &SortValue) -> bool {
        match (self, value) {
            (Self::CreatedAt | Self::UpdatedAt, SortValue::Time(_)) => true,
            (Self::LastOrderAt, SortValue::Time(_) | SortValue::Null) => true,
            (Self::TotalSpent | Self::TotalOrders, SortValue::Int(_)) => true,
            (Self::Email, SortValue::Text(text)) => !text.contains('\0'),
            _ => false,
        }
    }

    /// The sort value of `row`, as a cursor records it.
    pub fn value_of(self, row: &CustomerRow) -> SortValue {
        let time = |t: DateTime<Utc>| SortValue::Time(t.timestamp_micros());
        match self {
            Self::CreatedAt => time(row.created_at),
            Self::UpdatedAt => time(row.updated_at),
            Self::LastOrderAt => row.last_order_at.map_or(SortValue::Null, time),
            Self::TotalSpent => SortValue::Int(row.total_spent),
            Self::TotalOrders => SortValue::Int(i64::from(row.total_orders)),
            Self::Email => SortValue::Text(row.email_lower.clone()),
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// A sort value as a cursor carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum SortValue {
    Null,
    /// Microseconds since the Unix epoch (PostgreSQL's precision).
    Time(i64),
    Int(i64),
    Text(String),
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub value: SortValue,
    pub id: uuid::Uuid,
}

/// Conditions a listed customer must meet (all of them).
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of names or email; digits also match the phone's digits.
    pub search: Option<String>,
    /// Must carry every one of these tags.
    pub tags_all: Vec<String>,
    /// Must carry at least one of these tags.
    pub tags_any: Vec<String>,
    pub created_after: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    /// Metadata must contain these key–value pairs (a JSON object of strings).
    pub metadata: Option<serde_json::Value>,
    /// Must belong to this segment.
    pub segment: Option<Membership>,
    /// Must match these rules (the dynamic segments' language).
    pub rules: Option<Membership>,
}

type Boxed<'a> = customers::BoxedQuery<'a, Pg>;

fn filtered(store: StoreId, filter: &CustomerFilter) -> Boxed<'static> {
    let mut query = customers::table.filter(customers::store_id.eq(store.0)).into_boxed();
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        let digits: String = search.chars().filter(char::is_ascii_digit).collect();
        let phone_like = search.chars().all(|c| c.is_ascii_digit() || " +-.()/".contains(c));
        query = if phone_like && digits.len() >= 3 {
            let digits = format!("%{digits}%");
            query.filter(customers::search_text.like(pattern).or(customers::phone_digits.assume_not_null().like(digits)))
        } else {
            query.filter(customers::search_text.like(pattern))
        };
    }
    if !filter.tags_all.is_empty() {
        query = query.filter(customers::tags.contains(filter.tags_all.clone()));
    }
    if !filter.tags_any.is_empty() {
        query = query.filter(customers::tags.overlaps_with(filter.tags_any.clone()));
    }
    if let Some(after) = filter.created_after {
        query = query.filter(customers::created_at.gt(after));
    }
    if let Some(before) = filter.created_before {
        query = query.filter(customers::created_at.lt(before));
    }
    if let Some(metadata) = &filter.metadata {
        query = query.filter(customers::metadata.contains(metadata.clone()));
    }
    for membership in filter.segment.iter().chain(&filter.rules) {
        query = query.filter(membership.condition(Utc::now()));
    }
    query
}

/// One page: up to `limit` customers after `after` in the given order.
pub async fn page(
    conn: &mut AsyncPgConnection,
    store: StoreId,
    filter: &CustomerFilter,
    sort: SortKey,
    direction: Direction,
    after: Option<&Position>,
    limit: i64,
) -> QueryResult<Vec<CustomerRow>> {
    let column = sort.column();
    let (op, dir) = match direction {
        Direction::Asc => (">", "ASC"),
        Direction::Desc => ("<", "DESC"),
    };
    let mut query = filtered(store, filter);
    if let Some(position) = after {
        query = query.filter(after_position(sort, op, position));
    }
    // Only last_order_at can be null; naming NULLS LAST on the others would stop PostgreSQL from
    // reading their (store_id, key, id) index backwards for DESC.
    let nulls = if sort == SortKey::LastOrderAt { " NULLS LAST" } else { "" };
    query
        .order(sql::<Text>(&format!("{column} {dir}{nulls}, id {dir}")))
        .limit(limit)
        .select(CustomerRow::as_select())
        .load(conn)
        .await
}

type Condition = Box<dyn BoxableExpression<customers::table, Pg, SqlType = Bool>>;

/// Rows strictly after `position` in the order `(column op, id op)`, nulls last. The value is
/// bound as text and cast to the column's type by SQL text that depends only on the sort key.
fn after_position(sort: SortKey, op: &str, position: &Position) -> Condition {
    let column = sort.column();
    let id = position.id;
    let value = match &position.value {
        // Past the last non-null value come the nulls, in id order.
        SortValue::Null => return Box::new(sql::<Bool>(&format!("({column} IS NULL AND id {op} ")).bind::<SqlUuid, _>(id).sql(")")),
        SortValue::Time(micros) => DateTime::from_timestamp_micros(*micros).unwrap_or_default().to_rfc3339(),
        SortValue::Int(n) => n.to_string(),
        SortValue::Text(t) => t.clone(),
    };
    let cast = match sort {
        SortKey::CreatedAt | SortKey::UpdatedAt | SortKey::LastOrderAt => "timestamptz",
        SortKey::TotalSpent | SortKey::TotalOrders => "bigint",
        SortKey::Email => "text",
    };
    let nulls = if sort == SortKey::LastOrderAt { format!(" OR {column} IS NULL") } else { String::new() };
    Box::new(
        sql::<Bool>(&format!("(({column}, id) {op} (CAST("))
            .bind::<Text, _>(value)
            .sql(&format!(" AS {cast}), "))
            .bind::<SqlUuid, _>(id)
            .sql(&format!("){nulls})")),
    )
}

/// How many customers match `filter`.
pub async fn count(conn: &mut AsyncPgConnection, store: StoreId, filter: &CustomerFilter) -> QueryResult<i64> {
    filtered(store, filter).count().get_result(conn).await
}

/// Escapes LIKE's wildcards so the search text matches literally.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[cfg(test)]
mod tests {
    use super::{SortKey, SortValue, escape_like};

    #[test]
    fn a_sort_admits_only_its_own_kind_of_value() {
        assert!(SortKey::TotalSpent.admits(&SortValue::Int(5)));
        assert!(!SortKey::TotalSpent.admits(&SortValue::Text("5".into())));
        assert!(!SortKey::CreatedAt.admits(&SortValue::Int(5)));
        assert!(!SortKey::CreatedAt.admits(&SortValue::Null));
        assert!(SortKey::LastOrderAt.admits(&SortValue::Null));
        assert!(!SortKey::Email.admits(&SortValue::Text("a\u{0}".into())));
        assert!(SortKey::Email.admits(&SortValue::Text("a@b.co".into())));
    }

    #[test]
    fn escapes_wildcards() {
        assert_eq!(escape_like(r"50%_off\"), r"50\%\_off\\");
    }
}
