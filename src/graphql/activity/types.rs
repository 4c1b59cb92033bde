//! `ActivityEvent` and its concrete types, one per `ActivityType`.

use crate::db::activity::EventRow;
use crate::domain::activity::ActivityKind;
use crate::domain::ids::{CustomerId, EventId};
use crate::domain::money::Money;
use crate::graphql::scalars::{Json, Timestamp};
use crate::graphql::leaf::{LeafFields, LeafValue};
use crate::leaf_object;
use async_graphql::resolver_utils::enum_value;
use async_graphql::{Enum, ID, Interface, Value};
use std::sync::Arc;

/// What kind of thing a customer did.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityType {
    /// An order was placed (moves the customer's order totals).
    Order,
    /// An email was sent, opened or clicked.
    Email,
    /// A page of the store was viewed.
    PageView,
    /// A support conversation took place.
    Support,
    /// Anything else the store tracks.
    Custom,
}

impl From<ActivityType> for ActivityKind {
    fn from(t: ActivityType) -> Self {
        match t {
            ActivityType::Order => Self::Order,
            ActivityType::Email => Self::Email,
            ActivityType::PageView => Self::PageView,
            ActivityType::Support => Self::Support,
            ActivityType::Custom => Self::Custom,
        }
    }
}

impl From<ActivityKind> for ActivityType {
    fn from(k: ActivityKind) -> Self {
        match k {
            ActivityKind::Order => Self::Order,
            ActivityKind::Email => Self::Email,
            ActivityKind::PageView => Self::PageView,
            ActivityKind::Support => Self::Support,
            ActivityKind::Custom => Self::Custom,
        }
    }
}

/// One entry of a customer's timeline. Every type shares these fields; each concrete type adds
/// what is particular to it.
#[derive(Interface, Clone)]
#[expect(clippy::duplicated_attributes, reason = "async-graphql declares each interface field with its own `ty`")]
#[graphql(
    field(name = "id", ty = "ID", desc = "The event's id (`evt_...`)."),
    field(name = "customer_id", ty = "ID", desc = "The customer the event belongs to."),
    field(name = "type", method = "event_type", ty = "ActivityType", desc = "What kind of event this is."),
    field(name = "title", ty = "String", desc = "A short human-readable summary, e.g. `Order #1047 placed`."),
    field(name = "amount", ty = "Option<f64>", desc = "The amount involved (orders, custom events), in the store's currency."),
    field(name = "occurred_at", ty = "Timestamp", desc = "When it happened."),
    field(name = "external_id", ty = "Option<String>", desc = "The caller's id for the event; recording it again is a no-op."),
    field(name = "properties", ty = "Json", desc = "Free-form details (a JSON object).")
)]
pub enum ActivityEvent {
    Order(OrderEvent),
    Email(EmailEvent),
    PageView(PageViewEvent),
    Support(SupportEvent),
    Custom(CustomEvent),
}

impl From<Arc<EventRow>> for ActivityEvent {
    fn from(row: Arc<EventRow>) -> Self {
        match ActivityKind::from_stored(&row.event_type).unwrap_or(ActivityKind::Custom) {
            ActivityKind::Order => Self::Order(OrderEvent(row)),
            ActivityKind::Email => Self::Email(EmailEvent(row)),
            ActivityKind::PageView => Self::PageView(PageViewEvent(row)),
            ActivityKind::Support => Self::Support(SupportEvent(row)),
            ActivityKind::Custom => Self::Custom(CustomEvent(row)),
        }
    }
}

impl ActivityEvent {
    /// The stored event.
    pub fn row(&self) -> &EventRow {
        match self {
            Self::Order(e) => &e.0,
            Self::Email(e) => &e.0,
            Self::PageView(e) => &e.0,
            Self::Support(e) => &e.0,
            Self::Custom(e) => &e.0,
        }
    }
}

impl LeafFields for ActivityEvent {
    fn leaf_field(&self, name: &str) -> Option<Value> {
        match self {
            Self::Order(e) => e.leaf_field(name),
            Self::Email(e) => e.leaf_field(name),
            Self::PageView(e) => e.leaf_field(name),
            Self::Support(e) => e.leaf_field(name),
            Self::Custom(e) => e.leaf_field(name),
        }
    }
}

impl LeafValue for ActivityType {
    fn leaf_value(self) -> Value {
        enum_value(self)
    }
}

/// Declares a concrete event type: the interface's fields plus its own (all optional text
/// columns of the row).
macro_rules! event_type {
    ($(#[$doc:meta])* $name:ident { $($(#[$extra_doc:meta])* $extra:ident $graphql:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub Arc<EventRow>);

        leaf_object! {
            $(#[$doc])*
            $name(this) {
                /// The event's id (`evt_...`).
                id "id": ID = ID(EventId(this.0.id).to_string()),
                /// The customer the event belongs to.
                customer_id "customerId": ID = ID(CustomerId(this.0.customer_id).to_string()),
                /// What kind of event this is.
                event_type "type": ActivityType = ActivityKind::from_stored(&this.0.event_type).unwrap_or(ActivityKind::Custom).into(),
                /// A short human-readable summary, e.g. `Order #1047 placed`.
                title "title": String = this.0.title.clone(),
                /// The amount involved (orders, custom events), in the store's currency.
                amount "amount": Option<f64> = this.0.amount.map(|a| Money(a).as_major()),
                /// When it happened.
                occurred_at "occurredAt": Timestamp = Timestamp(this.0.occurred_at),
                /// The caller's id for the event; recording it again is a no-op.
                external_id "externalId": Option<String> = this.0.external_id.clone(),
                /// Free-form details (a JSON object).
                properties "properties": Json = Json(this.0.properties.value()),
                $($(#[$extra_doc])* $extra $graphql: Option<&str> = this.0.$extra.as_deref(),)*
            }
        }
    };
}

event_type!(
    /// An order the customer placed.
    OrderEvent {
        /// The store's order number or id.
        order_id "orderId",
    }
);

event_type!(
    /// An email sent to the customer, or opened or clicked by them.
    EmailEvent {
        /// The campaign the email belongs to.
        campaign_id "campaignId",
    }
);

event_type!(
    /// A page of the store the customer viewed.
    PageViewEvent {
        /// Where the visitor came from.
        referrer "referrer",
    }
);

event_type!(
    /// A support conversation with the customer.
    SupportEvent {
        /// Who handled it.
        agent "agent",
    }
);

event_type!(
    /// Any other event the store records.
    CustomEvent {}
);
