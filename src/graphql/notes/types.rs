//! The `Note` type.

use crate::db::notes::NoteRow;
use crate::domain::ids::{CustomerId, NoteId};
use crate::graphql::scalars::Timestamp;
use crate::leaf_object;
use async_graphql::ID;
use std::sync::Arc;

/// A note kept on a customer.
#[derive(Clone)]
pub struct Note(pub Arc<NoteRow>);

leaf_object! {
    /// A note kept on a customer.
    Note(this) {
        /// The note's id (`note_...`).
        id "id": ID = ID(NoteId(this.0.id).to_string()),
        /// The customer the note is about.
        customer_id "customerId": ID = ID(CustomerId(this.0.customer_id).to_string()),
        /// The text (1–10,000 characters).
        body "body": &str = &this.0.body,
        /// Who wrote it: the `author` given, or the API key's name.
        author "author": &str = &this.0.author,
        /// When it was written.
        created_at "createdAt": Timestamp = Timestamp(this.0.created_at),
        /// When it was last edited.
        updated_at "updatedAt": Timestamp = Timestamp(this.0.updated_at),
    }
}
