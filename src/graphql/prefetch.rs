//! Reading ahead for a page of customers: the rows its selection shows from other tables
//! (addresses, timeline pages, notes pages) are read for the whole page as soon as the page is
//! known, and each customer of the page finds its own among them. The customers then resolve
//! without waiting on DataLoaders, whose per-key bookkeeping costs more than the rows, and
//! directly (`leaf`).
//!
//! Only fields selected plainly (no fragment, no directive, arguments that parse) are read
//! ahead, so every statement run here is one the page's resolvers would have asked their
//! DataLoaders for; anything else still goes through them, one statement per distinct query as
//! before.

use super::activity::connection::TimelineArgs;
use super::loaders::{Found, LoadError, Loaders, NotesQuery};
use super::notes::connection::NotesArgs;
use crate::db::activity::{EventRow, TimelineQuery};
use crate::db::addresses::AddressRow;
use crate::db::notes::NoteRow;
use crate::domain::ids::CustomerId;
use crate::error::AppError;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::{Context, Positioned};
use futures_util::future::{join_all, join3};
use std::sync::Arc;

/// The rows read ahead for one page of customers.
pub struct PageRows {
    addresses: Option<Result<Found<AddressRow>, LoadError>>,
    timelines: Vec<(TimelineQuery, Result<Found<EventRow>, LoadError>)>,
    notes: Vec<(NotesQuery, Result<Found<NoteRow>, LoadError>)>,
}

/// One customer's rows among `found` (none found: empty), or the read's error; `None` when
/// nothing was read ahead.
fn of_customer<R>(found: Option<&Result<Found<R>, LoadError>>, customer: CustomerId) -> Option<Result<Vec<Arc<R>>, LoadError>> {
    found.map(|found| found.as_ref().map(|rows| rows.get(&customer).cloned().unwrap_or_default()).map_err(Clone::clone))
}

impl PageRows {
    /// Reads what the selection of `ctx` (a field returning the page of `customers`) shows of
    /// them; `None` when it shows nothing from other tables.
    pub async fn read(ctx: &Context<'_>, customers: &[CustomerId]) -> Result<Option<Arc<Self>>, AppError> {
        let mut wanted = Wanted::of_page(ctx);
        if customers.is_empty() || wanted.is_empty() {
            return Ok(None);
        }
        // Each read takes a connection while it runs: a page reads at most a few distinct
        // timeline and notes pages ahead (aliases beyond those go through the DataLoaders).
        wanted.timelines.truncate(MAX_QUERIES_AHEAD);
        wanted.notes.truncate(MAX_QUERIES_AHEAD);
        let loaders = Loaders::of(ctx)?;
        let read_addresses = wanted.addresses;
        let addresses = async move {
            if read_addresses { Some(loaders.read_addresses(customers).await) } else { None }
        };
        let timelines = join_all(wanted.timelines.into_iter().map(|query| async move {
            let found = loaders.read_timelines(customers, &query).await;
            (query, found)
        }));
        let notes = join_all(wanted.notes.into_iter().map(|query| async move {
            let found = loaders.read_notes(customers, &query).await;
            (query, found)
        }));
        let (addresses, timelines, notes) = join3(addresses, timelines, notes).await;
        Ok(Some(Arc::new(Self { addresses, timelines, notes })))
    }

    /// The customer's addresses, if they were read ahead.
    pub fn addresses(&self, customer: CustomerId) -> Option<Result<Vec<Arc<AddressRow>>, LoadError>> {
        of_customer(self.addresses.as_ref(), customer)
    }

    /// The customer's timeline page for `query`, if it was read ahead.
    pub fn timeline(&self, customer: CustomerId, query: &TimelineQuery) -> Option<Result<Vec<Arc<EventRow>>, LoadError>> {
        of_customer(self.timelines.iter().find(|(q, _)| q == query).map(|(_, found)| found), customer)
    }

    /// The customer's notes page for `query`, if it was read ahead.
    pub fn notes(&self, customer: CustomerId, query: &NotesQuery) -> Option<Result<Vec<Arc<NoteRow>>, LoadError>> {
        of_customer(self.notes.iter().find(|(q, _)| q == query).map(|(_, found)| found), customer)
    }
}

/// Distinct timeline (and notes) pages one page of customers reads ahead at most.
const MAX_QUERIES_AHEAD: usize = 3;

/// What a page's customers select plainly from other tables.
#[derive(Default)]
struct Wanted {
    addresses: bool,
    timelines: Vec<TimelineQuery>,
    notes: Vec<NotesQuery>,
}

/// The fields of a selection set selected plainly (not through a fragment, without directives).
fn plain_fields(set: &Positioned<SelectionSet>) -> impl Iterator<Item = &Positioned<Field>> {
    set.node.items.iter().filter_map(|selection| match &selection.node {
        Selection::Field(field) if field.node.directives.is_empty() => Some(field),
        _ => None,
    })
}

impl Wanted {
    /// What the customers of the connection field `ctx` resolves select, as `nodes` or as the
    /// `node` of `edges`.
    fn of_page(ctx: &Context<'_>) -> Self {
        let mut wanted = Self::default();
        for field in plain_fields(&ctx.item.node.selection_set) {
            match field.node.name.node.as_str() {
                "nodes" => wanted.add_customer_fields(&ctx.with_field(field)),
                "edges" => {
                    let edges = ctx.with_field(field);
                    for node in plain_fields(&field.node.selection_set).filter(|f| f.node.name.node == "node") {
                        wanted.add_customer_fields(&edges.with_field(node));
                    }
                }
                _ => {}
            }
        }
        wanted
    }

    /// What the field `ctx` resolves, of type `Customer`, selects.
    fn add_customer_fields(&mut self, ctx: &Context<'_>) {
        for field in plain_fields(&ctx.item.node.selection_set) {
            match field.node.name.node.as_str() {
                "addresses" | "defaultAddress" => self.addresses = true,
                "activity" => {
                    let page = TimelineArgs::of_field(&ctx.with_field(field)).and_then(|args| args.page().ok());
                    if let Some(page) = page.filter(|page| !self.timelines.contains(&page.query)) {
                        self.timelines.push(page.query);
                    }
                }
                "notes" => {
                    let page = NotesArgs::of_field(&ctx.with_field(field)).and_then(|args| args.page().ok());
                    if let Some(page) = page.filter(|page| !self.notes.contains(&page.query)) {
                        self.notes.push(page.query);
                    }
                }
                _ => {}
            }
        }
    }

    fn is_empty(&self) -> bool {
        !self.addresses && self.timelines.is_empty() && self.notes.is_empty()
    }
}
