//! Hand-written SQL that each connection prepares once. `diesel::sql_query` marks its statements
//! unsafe to cache, so every run is parsed and planned again, in an extra round trip, and its
//! rows are read by column name; a [`Prepared`] statement is cached by its text like the query
//! builder's own and its rows are read by position, as `Queryable` types with SQL type `ST`.
//!
//! The text is built from pieces and bound values ([`Prepared::sql`], [`Prepared::bind`]);
//! diesel numbers the placeholders, so values never reach the SQL text.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::HasSqlType;
use diesel::QueryResult;
use std::marker::PhantomData;

/// A statement returning rows of SQL type `ST`.
pub struct Prepared<ST> {
    parts: Vec<Part>,
    row: PhantomData<fn() -> ST>,
}

enum Part {
    Sql(&'static str),
    Bind(Box<dyn QueryFragment<Pg> + Send>),
}

/// A value bound as SQL type `T`.
struct Bound<T, V>(V, PhantomData<fn() -> T>);

impl<T, V> QueryFragment<Pg> for Bound<T, V>
where
    Pg: HasSqlType<T>,
    V: ToSql<T, Pg>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<T, V>(&self.0)
    }
}

impl<ST> Default for Prepared<ST> {
    fn default() -> Self {
        Self { parts: Vec::new(), row: PhantomData }
    }
}

impl<ST> Prepared<ST> {
    /// Appends SQL text (static, so no value can end up in it).
    pub fn sql(mut self, text: &'static str) -> Self {
        self.parts.push(Part::Sql(text));
        self
    }

    /// Appends a placeholder bound to `value` as SQL type `T`.
    pub fn bind<T, V>(mut self, value: V) -> Self
    where
        T: 'static,
        Pg: HasSqlType<T>,
        V: ToSql<T, Pg> + Send + 'static,
    {
        self.parts.push(Part::Bind(Box::new(Bound::<T, V>(value, PhantomData))));
        self
    }
}

impl<ST> QueryId for Prepared<ST> {
    type QueryId = ();
    // Cached by its text (and bind types) rather than by type.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<ST> QueryFragment<Pg> for Prepared<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Sql(text) => out.push_sql(text),
                Part::Bind(value) => value.walk_ast(out.reborrow())?,
            }
        }
        Ok(())
    }
}

impl<ST> Query for Prepared<ST> {
    type SqlType = ST;
}
