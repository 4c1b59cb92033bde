//! `CustomerConnection`: a page of customers with Relay edges; `totalCount` runs its count query
//! only when selected.

use super::types::Customer;
use crate::db::customer_list::{self, CustomerFilter, Direction, Position, SortKey, SortValue};
use crate::db::customers::CustomerRow;
use crate::domain::ids::StoreId;
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::leaf::Leaf;
use crate::graphql::prefetch::PageRows;
use crate::graphql::pagination::{PageInfo, cursor_instant, decode_cursor, encode_cursor};
use async_graphql::{Context, Object, Result, SimpleObject};
use serde::{Deserialize, Serialize};

/// What a customer-list cursor holds: the order it was made for and the position in it.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Cursor {
    /// Sort key and direction, e.g. `TotalSpent:Desc`.
    o: String,
    v: SortValue,
    id: uuid::Uuid,
}

fn order_tag(sort: SortKey, direction: Direction) -> String {
    format!("{sort:?}:{direction:?}")
}

/// Reads an `after` cursor, refusing one made for another order.
pub fn position(after: Option<&str>, sort: SortKey, direction: Direction) -> Result<Option<Position>, AppError> {
    let Some(after) = after else { return Ok(None) };
    let cursor: Cursor = decode_cursor("after", after)?;
    if cursor.o != order_tag(sort, direction) {
        return Err(AppError::bad_input("after", "this cursor belongs to a list in another order"));
    }
    let in_range = match cursor.v {
        SortValue::Time(micros) => cursor_instant(micros).is_some(),
        _ => true,
    };
    if !sort.admits(&cursor.v) || !in_range {
        return Err(AppError::bad_input("after", "is not a cursor returned by this list"));
    }
    Ok(Some(Position { value: cursor.v, id: cursor.id }))
}

/// One customer in a list, with the cursor that points just after it.
#[derive(SimpleObject)]
pub struct CustomerEdge {
    /// Pass as `after` to continue the list after this customer.
    pub cursor: String,
    /// The customer.
    pub node: Leaf<Customer>,
}

/// A page of customers.
pub struct CustomerConnection {
    store: StoreId,
    filter: CustomerFilter,
    rows: Vec<Leaf<Customer>>,
    page_info: PageInfo,
    sort: SortKey,
    direction: Direction,
}

impl CustomerConnection {
    /// Loads the page (one statement), fetching one extra row to know whether more follow, and
    /// what its selection shows of the customers from other tables (`prefetch`).
    pub async fn load(
        ctx: &Context<'_>,
        filter: CustomerFilter,
        sort: SortKey,
        direction: Direction,
        after: Option<&str>,
        first: i64,
    ) -> Result<Self, AppError> {
        let store = context::store(ctx)?;
        let after_position = position(after, sort, direction)?;
        let mut conn = context::conn(ctx).await?;
        let mut rows = customer_list::page(&mut conn, store, &filter, sort, direction, after_position.as_ref(), first + 1).await?;
        // given back before reading ahead, which takes connections of its own
        drop(conn);
        let has_next_page = rows.len() as i64 > first;
        rows.truncate(first as usize);
        let ids: Vec<_> = rows.iter().map(CustomerRow::customer_id).collect();
        let read_ahead = PageRows::read(ctx, &ids).await?;
        let mut connection = Self {
            store,
            filter,
            rows: rows.into_iter().map(|row| Leaf(Customer::on_page(row, read_ahead.clone()))).collect(),
            page_info: PageInfo { has_next_page, has_previous_page: after.is_some(), start_cursor: None, end_cursor: None },
            sort,
            direction,
        };
        connection.page_info.start_cursor = connection.rows.first().map(|c| connection.cursor(c.0.row()));
        connection.page_info.end_cursor = connection.rows.last().map(|c| connection.cursor(c.0.row()));
        Ok(connection)
    }

    fn cursor(&self, row: &CustomerRow) -> String {
        encode_cursor(&Cursor { o: order_tag(self.sort, self.direction), v: self.sort.value_of(row), id: row.id })
    }
}

/// A page of customers.
#[Object]
impl CustomerConnection {
    /// The customers on this page, each with its cursor.
    async fn edges(&self) -> Vec<CustomerEdge> {
        self.rows.iter().map(|c| CustomerEdge { cursor: self.cursor(c.0.row()), node: c.clone() }).collect()
    }

    /// The customers on this page.
    async fn nodes(&self) -> &[Leaf<Customer>] {
        &self.rows
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// How many customers match the filters (all pages). Counted only when selected.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let mut conn = context::conn(ctx).await?;
        Ok(customer_list::count(&mut conn, self.store, &self.filter).await.map_err(AppError::from)?)
    }
}
