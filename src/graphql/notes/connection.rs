//! `Customer.notes`: newest first, keyset pages, read with the customer's page or batched by the
//! notes loader.

use super::types::Note;
use crate::db::notes::NoteRow;
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use crate::graphql::activity::connection::TimeCursor;
use crate::graphql::leaf::Leaf;
use crate::graphql::loaders::{LoadError, Loaders, NotesQuery};
use crate::graphql::pagination::{KeysetPage, PageInfo, edge_nested, page_size};
use crate::graphql::prefetch::PageRows;
use crate::leaf_object;
use async_graphql::{Context, Value};
use std::sync::Arc;

/// The cursor pointing just after `note`.
fn cursor(note: &Leaf<Note>) -> String {
    TimeCursor::encode(note.0.0.created_at, note.0.0.id)
}

/// One note in a list, with the cursor that points just after it.
pub struct NoteEdge(Leaf<Note>);

leaf_object! {
    /// One note in a list, with the cursor that points just after it.
    NoteEdge(this) {
        /// Pass as `after` to continue after this note.
        cursor "cursor": String = cursor(&this.0),
        /// The note.
        async fn node(&self) -> &Leaf<Note> {
            &self.0
        }
    }
    nested: NoteEdge::nested;
}

impl NoteEdge {
    fn nested(&self, ctx: &Context<'_>) -> Option<Value> {
        edge_nested(ctx, &self.0.0)
    }
}

/// A page of a customer's notes, newest first.
pub struct NoteConnection(KeysetPage<Leaf<Note>>);

leaf_object! {
    /// A page of a customer's notes, newest first.
    NoteConnection(this) {
        /// The notes on this page, each with its cursor.
        async fn edges(&self) -> Vec<NoteEdge> {
            self.edge_list()
        }

        /// The notes on this page.
        async fn nodes(&self) -> &[Leaf<Note>] {
            &self.0.rows
        }

        /// Where this page sits in the list.
        async fn page_info(&self) -> PageInfo {
            self.0.page_info(cursor)
        }
    }
    nested: NoteConnection::nested;
}

impl NoteConnection {
    /// A page of `rows`, fetched with one more than `first`.
    pub fn new(rows: Vec<Arc<NoteRow>>, first: i64, has_previous_page: bool) -> Self {
        Self(KeysetPage::new(rows.into_iter().map(|row| Leaf(Note(row))).collect(), first, has_previous_page))
    }

    fn edge_list(&self) -> Vec<NoteEdge> {
        self.0.rows.iter().map(|node| NoteEdge(node.clone())).collect()
    }

    fn nested(&self, ctx: &Context<'_>) -> Option<Value> {
        self.0.nested(ctx, |node| NoteEdge(node.clone()), cursor)
    }
}

/// The arguments of `Customer.notes`.
pub struct NotesArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
}

/// What a page of one customer's notes reads: its query, and how many notes it shows.
#[derive(Debug, Clone)]
pub struct NotesPage {
    pub query: NotesQuery,
    pub first: i64,
}

impl NotesArgs {
    /// The arguments of the `notes` field `ctx` resolves; `None` when they do not parse (the
    /// general path reports why).
    pub fn of_field(ctx: &Context<'_>) -> Option<Self> {
        Some(Self { first: ctx.param_value("first", None).ok()?.1, after: ctx.param_value("after", None).ok()?.1 })
    }

    /// The page these arguments ask for.
    pub fn page(self) -> Result<NotesPage, AppError> {
        let first = page_size(self.first)?;
        let query = NotesQuery { position: TimeCursor::parse("after", self.after.as_deref())?, limit: first + 1 };
        Ok(NotesPage { query, first })
    }
}

impl NotesPage {
    /// The page from the rows read ahead for `customer`'s page of customers, if they hold it.
    pub fn read_ahead(&self, rows: &PageRows, customer: CustomerId) -> Option<Result<NoteConnection, LoadError>> {
        let found = rows.notes(customer, &self.query)?;
        Some(found.map(|rows| NoteConnection::new(rows, self.first, self.query.position.is_some())))
    }
}

/// Loads one customer's page of notes: from the rows read ahead for its page of customers when
/// they hold it, otherwise through the request's notes loader.
pub async fn load(ctx: &Context<'_>, customer: CustomerId, read_ahead: Option<&PageRows>, args: NotesArgs) -> Result<NoteConnection, AppError> {
    let page = args.page()?;
    if let Some(connection) = read_ahead.and_then(|rows| page.read_ahead(rows, customer)) {
        return Ok(connection?);
    }
    let has_previous_page = page.query.position.is_some();
    let rows = Loaders::of(ctx)?.notes.load_one((customer, page.query)).await?.unwrap_or_default();
    Ok(NoteConnection::new(rows, page.first, has_previous_page))
}
