//! The `Customer` and `Address` output types.

use crate::db::addresses::AddressRow;
use crate::db::customers::CustomerRow;
use crate::domain::ids::{AddressId, CustomerId};
use crate::domain::money::Money;
use crate::error::AppError;
use crate::graphql::activity::{self, connection::{ActivityConnection, TimelineArgs}, types::ActivityType};
use crate::graphql::leaf::{self, Leaf, LeafFields, LeafValue};
use super::enrichment::CustomerEnrichment;
use crate::leaf_object;
use crate::graphql::loaders::Loaders;
use crate::graphql::metrics::types::CustomerMetrics;
use crate::graphql::segments::types::Segment;
use crate::graphql::notes::{self, connection::{NoteConnection, NotesArgs}};
use crate::graphql::prefetch::PageRows;
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{Context, ID, Object, Result, Value};
use std::sync::Arc;

/// A customer profile: contact details, addresses, tags, custom metadata and order totals.
#[derive(Clone)]
pub struct Customer {
    row: CustomerRow,
    /// The rows read ahead for the page of customers this one was listed on.
    read_ahead: Option<Arc<PageRows>>,
}

impl Customer {
    /// A customer on its own: nested fields load through the request's DataLoaders.
    pub fn new(row: CustomerRow) -> Self {
        Self { row, read_ahead: None }
    }

    /// A customer of a page whose nested rows were read ahead (`prefetch`).
    pub fn on_page(row: CustomerRow, read_ahead: Option<Arc<PageRows>>) -> Self {
        Self { row, read_ahead }
    }

    /// The stored profile.
    pub fn row(&self) -> &CustomerRow {
        &self.row
    }

    /// Resolves a nested field directly from the rows read ahead, when they hold it.
    fn nested(&self, ctx: &Context<'_>) -> Option<Value> {
        let rows = self.read_ahead.as_deref()?;
        let id = self.row.customer_id();
        match ctx.item.node.name.node.as_str() {
            "addresses" => {
                let addresses: Vec<Address> = rows.addresses(id)?.ok()?.into_iter().map(Address).collect();
                leaf::list(ctx, &addresses)
            }
            "defaultAddress" => match rows.addresses(id)?.ok()?.into_iter().find(|a| a.is_default) {
                Some(row) => leaf::object(ctx, &Address(row)),
                None => Some(Value::Null),
            },
            "activity" => leaf::object(ctx, &TimelineArgs::of_field(ctx)?.page().ok()?.read_ahead(rows, id)?.ok()?),
            "notes" => leaf::object(ctx, &NotesArgs::of_field(ctx)?.page().ok()?.read_ahead(rows, id)?.ok()?),
            _ => None,
        }
    }
}

/// A customer profile: contact details, addresses, tags, custom metadata and order totals.
// The resolvers that load (addresses, metrics, segments, activity, notes) box their loading
// futures: async-graphql sizes every field's future like the largest one, and a page resolves
// thousands of small fields.
#[Object]
impl Customer {
    /// The customer's id (`cust_...`).
    async fn id(&self) -> ID {
        ID(CustomerId(self.row.id).to_string())
    }

    /// Email address, as given; unique in the store ignoring case.
    async fn email(&self) -> &str {
        &self.row.email
    }

    /// Given name.
    async fn first_name(&self) -> Option<&str> {
        self.row.first_name.as_deref()
    }

    /// Family name.
    async fn last_name(&self) -> Option<&str> {
        self.row.last_name.as_deref()
    }

    /// Phone number: E.164 (`+14155552671`) when it could be normalised, otherwise as given.
    async fn phone(&self) -> Option<&str> {
        self.row.phone.as_deref()
    }

    /// Tags, in the order they were first added.
    async fn tags(&self) -> &[String] {
        &self.row.tags
    }

    /// Custom key–value data (an object of strings).
    async fn metadata(&self) -> Json {
        Json(self.row.metadata.clone())
    }

    /// Every address, in the order given (see `isDefault` for the default one).
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Leaf<Address>>> {
        Ok(Box::pin(self.address_rows(ctx)).await?.into_iter().map(|row| Leaf(Address(row))).collect())
    }

    /// The default address (the first unless another was marked default).
    async fn default_address(&self, ctx: &Context<'_>) -> Result<Option<Leaf<Address>>> {
        Ok(Box::pin(self.address_rows(ctx)).await?.into_iter().find(|a| a.is_default).map(|row| Leaf(Address(row))))
    }

    /// Number of orders placed.
    async fn total_orders(&self) -> i32 {
        self.row.total_orders
    }

    /// Sum of all orders, in the store's currency.
    async fn total_spent(&self) -> f64 {
        Money(self.row.total_spent).as_major()
    }

    /// When the first order was placed.
    async fn first_order_at(&self) -> Option<Timestamp> {
        self.row.first_order_at.map(Timestamp)
    }

    /// When the latest order was placed.
    async fn last_order_at(&self) -> Option<Timestamp> {
        self.row.last_order_at.map(Timestamp)
    }

    /// When the profile was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.row.created_at)
    }

    /// When the profile was last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.row.updated_at)
    }


    /// RFM scores, order value, purchase frequency, churn risk and predicted value, computed when
    /// read from the customer's orders and the store's model.
    async fn metrics(&self, ctx: &Context<'_>) -> Result<CustomerMetrics> {
        let state = Box::pin(Loaders::of(ctx)?.store_metrics()).await?;
        Ok(CustomerMetrics::new(&self.row, state))
    }

    /// What the store learns about the customer without asking: phone, email, location and
    /// behaviour facts (null only briefly, for a customer loaded in bulk).
    async fn enrichment(&self, ctx: &Context<'_>) -> Result<Option<CustomerEnrichment>> {
        let row = Box::pin(Loaders::of(ctx)?.enrichment.load_one(self.row.customer_id())).await.map_err(AppError::from)?;
        Ok(row.map(CustomerEnrichment))
    }

    /// The segments the customer belongs to now (static memberships and matching dynamic rules).
    async fn segments(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        let rows = Box::pin(Loaders::of(ctx)?.segments.load_one(self.row.customer_id())).await.map_err(AppError::from)?;
        Ok(rows.unwrap_or_default().into_iter().map(Segment).collect())
    }

    /// The customer's timeline, newest first: orders, emails, page views, support chats and
    /// custom events.
    async fn activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only these types (all when absent).")] types: Option<Vec<ActivityType>>,
        #[graphql(desc = "Only events that occurred strictly after this time (a date means its midnight UTC).")] after: Option<Timestamp>,
        #[graphql(desc = "Only events that occurred strictly before this time.")] before: Option<Timestamp>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor` of the previous page).")] cursor: Option<String>,
    ) -> Result<ActivityConnection> {
        let args = TimelineArgs { types, after, before, first, cursor };
        Ok(Box::pin(activity::connection::load(ctx, self.row.customer_id(), self.read_ahead.as_deref(), args)).await?)
    }

    /// Notes staff keep on the customer, newest first.
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor` of the previous page).")] after: Option<String>,
    ) -> Result<NoteConnection> {
        let args = NotesArgs { first, after };
        Ok(Box::pin(notes::connection::load(ctx, self.row.customer_id(), self.read_ahead.as_deref(), args)).await?)
    }
}

/// The direct path (`leaf`): the plain fields as the resolvers above render them (tested), and
/// the nested ones from the rows read ahead.
impl LeafFields for Customer {
    fn leaf_field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "id" => ID(CustomerId(self.row.id).to_string()).leaf_value(),
            "email" => self.row.email.as_str().leaf_value(),
            "firstName" => self.row.first_name.as_deref().leaf_value(),
            "lastName" => self.row.last_name.as_deref().leaf_value(),
            "phone" => self.row.phone.as_deref().leaf_value(),
            "tags" => self.row.tags.as_slice().leaf_value(),
            "metadata" => Json(self.row.metadata.clone()).leaf_value(),
            "totalOrders" => self.row.total_orders.leaf_value(),
            "totalSpent" => Money(self.row.total_spent).as_major().leaf_value(),
            "firstOrderAt" => self.row.first_order_at.map(Timestamp).leaf_value(),
            "lastOrderAt" => self.row.last_order_at.map(Timestamp).leaf_value(),
            "createdAt" => Timestamp(self.row.created_at).leaf_value(),
            "updatedAt" => Timestamp(self.row.updated_at).leaf_value(),
            _ => return None,
        })
    }

    fn nested_field(&self, ctx: &Context<'_>) -> Option<Value> {
        self.nested(ctx)
    }
}

impl Customer {
    /// The customer's addresses: read ahead with its page, or through the request's loader.
    async fn address_rows(&self, ctx: &Context<'_>) -> Result<Vec<Arc<AddressRow>>, AppError> {
        let id = self.row.customer_id();
        match self.read_ahead.as_deref().and_then(|rows| rows.addresses(id)) {
            Some(found) => Ok(found?),
            None => Ok(Loaders::of(ctx)?.addresses.load_one(id).await?.unwrap_or_default()),
        }
    }
}

/// A postal address of a customer.
pub struct Address(pub Arc<AddressRow>);

leaf_object! {
    /// A postal address of a customer.
    Address(this) {
        /// The address's id (`addr_...`).
        id "id": ID = ID(AddressId(this.0.id).to_string()),
        /// Whether this is the customer's default address.
        is_default "isDefault": bool = this.0.is_default,
        /// Recipient's given name.
        first_name "firstName": Option<&str> = this.0.first_name.as_deref(),
        /// Recipient's family name.
        last_name "lastName": Option<&str> = this.0.last_name.as_deref(),
        /// Company name.
        company "company": Option<&str> = this.0.company.as_deref(),
        /// Street address.
        line1 "line1": Option<&str> = this.0.line1.as_deref(),
        /// Apartment, suite, unit.
        line2 "line2": Option<&str> = this.0.line2.as_deref(),
        /// City or locality.
        city "city": Option<&str> = this.0.city.as_deref(),
        /// State, province or region.
        state "state": Option<&str> = this.0.state.as_deref(),
        /// Postal or ZIP code.
        postal_code "postalCode": Option<&str> = this.0.postal_code.as_deref(),
        /// ISO 3166-1 alpha-2 country code (`US`).
        country "country": Option<&str> = this.0.country.as_deref(),
        /// Phone number at this address, E.164 where it could be normalised.
        phone "phone": Option<&str> = this.0.phone.as_deref(),
    }
}
