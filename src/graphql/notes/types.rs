//! The `Note` type.

use crate::db::notes::NoteRow;
use crate::domain::ids::{CustomerId, NoteId};
use crate::graphql::scalars::Timestamp;
use async_graphql::{ID, Object};

/// A note kept on a customer.
#[derive(Clone)]
pub struct Note(pub NoteRow);

/// A note kept on a customer.
#[Object]
impl Note {
    /// The note's id (`note_...`).
    async fn id(&self) -> ID {
        ID(NoteId(self.0.id).to_string())
    }
    /// The customer the note is about.
    async fn customer_id(&self) -> ID {
        ID(CustomerId(self.0.customer_id).to_string())
    }
    /// The text (1–10,000 characters).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Who wrote it: the `author` given, or the API key's name.
    async fn author(&self) -> &str {
        &self.0.author
    }
    /// When it was written.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// When it was last edited.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}
