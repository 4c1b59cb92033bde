//! The `Customer` and `Address` output types.

use crate::db::addresses::AddressRow;
use crate::db::customers::CustomerRow;
use crate::domain::ids::{AddressId, CustomerId};
use crate::domain::money::Money;
use crate::error::AppError;
use crate::graphql::activity::{self, connection::{ActivityConnection, TimelineArgs}, types::ActivityType};
use crate::graphql::leaf::Leaf;
use super::enrichment::CustomerEnrichment;
use crate::graphql::loaders::Loaders;
use crate::leaf_object;
use crate::graphql::metrics::types::CustomerMetrics;
use crate::graphql::segments::types::Segment;
use crate::graphql::notes::{self, connection::NoteConnection};
use crate::graphql::pagination::list_cost;
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{Context, ID, Object, Result};
use std::sync::Arc;

/// A customer profile: contact details, addresses, tags, custom metadata and order totals.
pub struct Customer(pub CustomerRow);

/// A customer profile: contact details, addresses, tags, custom metadata and order totals.
// The resolvers that load (addresses, metrics, segments, activity, notes) box their loading
// futures: async-graphql sizes every field's future like the largest one, and a page resolves
// thousands of small fields.
#[Object]
impl Customer {
    /// The customer's id (`cust_...`).
    async fn id(&self) -> ID {
        ID(CustomerId(self.0.id).to_string())
    }

    /// Email address, as given; unique in the store ignoring case.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Given name.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }

    /// Family name.
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }

    /// Phone number: E.164 (`+14155552671`) when it could be normalised, otherwise as given.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }

    /// Tags, in the order they were first added.
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }

    /// Custom key–value data (an object of strings).
    async fn metadata(&self) -> Json {
        Json(self.0.metadata.clone())
    }

    /// Every address, in the order given (see `isDefault` for the default one).
    async fn addresses(&self, ctx: &Context<'_>) -> Result<Vec<Leaf<Address>>> {
        Ok(Box::pin(load_addresses(ctx, self.0.customer_id())).await?.into_iter().map(|row| Leaf(Address(row))).collect())
    }

    /// The default address (the first unless another was marked default).
    async fn default_address(&self, ctx: &Context<'_>) -> Result<Option<Leaf<Address>>> {
        Ok(Box::pin(load_addresses(ctx, self.0.customer_id())).await?.into_iter().find(|a| a.is_default).map(|row| Leaf(Address(row))))
    }

    /// Number of orders placed.
    async fn total_orders(&self) -> i32 {
        self.0.total_orders
    }

    /// Sum of all orders, in the store's currency.
    async fn total_spent(&self) -> f64 {
        Money(self.0.total_spent).as_major()
    }

    /// When the first order was placed.
    async fn first_order_at(&self) -> Option<Timestamp> {
        self.0.first_order_at.map(Timestamp)
    }

    /// When the latest order was placed.
    async fn last_order_at(&self) -> Option<Timestamp> {
        self.0.last_order_at.map(Timestamp)
    }

    /// When the profile was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }

    /// When the profile was last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }

    /// RFM scores, order value, purchase frequency, churn risk and predicted value, computed when
    /// read from the customer's orders and the store's model.
    async fn metrics(&self, ctx: &Context<'_>) -> Result<CustomerMetrics> {
        let state = Box::pin(Loaders::of(ctx)?.store_metrics()).await?;
        Ok(CustomerMetrics::new(&self.0, state))
    }

    /// What the store learns about the customer without asking: phone, email, location and
    /// behaviour facts (null only briefly, for a customer loaded in bulk).
    async fn enrichment(&self, ctx: &Context<'_>) -> Result<Option<CustomerEnrichment>> {
        let row = Box::pin(Loaders::of(ctx)?.enrichment.load_one(self.0.customer_id())).await.map_err(AppError::from)?;
        Ok(row.map(CustomerEnrichment))
    }

    /// The segments the customer belongs to now (static memberships and matching dynamic rules).
    async fn segments(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        let rows = Box::pin(Loaders::of(ctx)?.segments.load_one(self.0.customer_id())).await.map_err(AppError::from)?;
        Ok(rows.unwrap_or_default().into_iter().map(Segment).collect())
    }

    /// The customer's timeline, newest first: orders, emails, page views, support chats and
    /// custom events.
    #[graphql(complexity = "list_cost(first, child_complexity)")]
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
        Ok(Box::pin(activity::connection::load(ctx, self.0.customer_id(), args)).await?)
    }

    /// Notes staff keep on the customer, newest first.
    #[graphql(complexity = "list_cost(first, child_complexity)")]
    async fn notes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor` of the previous page).")] after: Option<String>,
    ) -> Result<NoteConnection> {
        Ok(Box::pin(notes::connection::load(ctx, self.0.customer_id(), first, after.as_deref())).await?)
    }
}

async fn load_addresses(ctx: &Context<'_>, id: CustomerId) -> Result<Vec<Arc<AddressRow>>, AppError> {
    Ok(Loaders::of(ctx)?.addresses.load_one(id).await?.unwrap_or_default())
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
