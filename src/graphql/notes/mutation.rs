//! Note mutations.

use super::types::Note;
use crate::db::notes;
use crate::domain::ids::NoteId;
use crate::domain::note::{parse_author, parse_body};
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use std::sync::Arc;

/// Note changes.
#[derive(Default)]
pub struct NoteMutation;

/// The result of `deleteNote`.
#[derive(SimpleObject)]
pub struct DeleteNotePayload {
    /// The id of the note that was deleted.
    pub deleted_note_id: ID,
}

fn note_id(arg: &str, id: &ID) -> Result<NoteId, AppError> {
    NoteId::parse(id).map_err(|e| AppError::bad_input(arg, e.to_string()))
}

#[Object]
impl NoteMutation {
    /// Adds a note to a customer. The author is `author`, or else the API key's name.
    async fn add_customer_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the note is about.")] customer_id: ID,
        #[graphql(desc = "The text, 1–10,000 characters.")] body: String,
        #[graphql(desc = "Who is writing (default: the API key's name).")] author: Option<String>,
    ) -> Result<Note> {
        let customer = self::customer_id("customerId", &customer_id)?;
        let request = context::request(ctx)?;
        let body = parse_body("body", &body).map_err(AppError::from)?;
        let author = parse_author("author", author.as_deref(), &request.grant.key_name).map_err(AppError::from)?;
        let mut conn = context::conn(ctx).await?;
        Ok(Note(Arc::new(notes::add(&mut conn, request.grant.store_id, customer, &body, &author).await?)))
    }

    /// Replaces a note's text.
    async fn update_note(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The note's id.")] id: ID,
        #[graphql(desc = "The new text, 1–10,000 characters.")] body: String,
    ) -> Result<Note> {
        let id = note_id("id", &id)?;
        let body = parse_body("body", &body).map_err(AppError::from)?;
        let mut conn = context::conn(ctx).await?;
        let row = notes::update(&mut conn, context::store(ctx)?, id, &body).await.map_err(AppError::from)?;
        Ok(Note(Arc::new(row.ok_or_else(|| AppError::not_found("note", id, "id"))?)))
    }

    /// Deletes a note.
    async fn delete_note(&self, ctx: &Context<'_>, #[graphql(desc = "The note's id.")] id: ID) -> Result<DeleteNotePayload> {
        let note = note_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        if !notes::delete(&mut conn, context::store(ctx)?, note).await.map_err(AppError::from)? {
            return Err(AppError::not_found("note", note, "id").into());
        }
        Ok(DeleteNotePayload { deleted_note_id: id })
    }
}
