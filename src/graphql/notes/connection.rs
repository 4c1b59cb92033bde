//! `Customer.notes`: newest first, keyset pages, batched by the notes loader.

use super::types::Note;
use crate::db::notes::NoteRow;
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use crate::graphql::activity::connection::TimeCursor;
use crate::graphql::leaf::Leaf;
use crate::graphql::loaders::{Loaders, NotesQuery};
use crate::graphql::pagination::{PageInfo, keyset_page, page_size};
use async_graphql::{Context, Object, SimpleObject};
use std::sync::Arc;

/// One note in a list, with the cursor that points just after it.
#[derive(SimpleObject)]
pub struct NoteEdge {
    /// Pass as `after` to continue after this note.
    pub cursor: String,
    /// The note.
    pub node: Leaf<Note>,
}

/// A page of a customer's notes, newest first.
pub struct NoteConnection {
    nodes: Vec<Leaf<Note>>,
    cursors: Vec<String>,
    page_info: PageInfo,
}

/// A page of a customer's notes, newest first.
#[Object]
impl NoteConnection {
    /// The notes on this page, each with its cursor.
    async fn edges(&self) -> Vec<NoteEdge> {
        self.nodes.iter().zip(&self.cursors).map(|(node, cursor)| NoteEdge { cursor: cursor.clone(), node: node.clone() }).collect()
    }

    /// The notes on this page.
    async fn nodes(&self) -> &[Leaf<Note>] {
        &self.nodes
    }

    /// Where this page sits in the list.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
}

/// Loads one customer's page of notes.
pub async fn load(ctx: &Context<'_>, customer: CustomerId, first: Option<i32>, after: Option<&str>) -> Result<NoteConnection, AppError> {
    let first = page_size(first)?;
    let query = NotesQuery { position: TimeCursor::parse("after", after)?, limit: first + 1 };
    let has_previous_page = query.position.is_some();
    let rows: Vec<Arc<NoteRow>> = Loaders::of(ctx)?.notes.load_one((customer, query)).await?.unwrap_or_default();
    let (rows, cursors, page_info) = keyset_page(rows, first, has_previous_page, |r| TimeCursor::encode(r.created_at, r.id));
    Ok(NoteConnection { nodes: rows.into_iter().map(|row| Leaf(Note(row))).collect(), cursors, page_info })
}
