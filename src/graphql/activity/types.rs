//! `ActivityEvent` and its concrete types, one per `ActivityType`.

use crate::db::activity::EventRow;
use crate::domain::activity::ActivityKind;
use crate::domain::ids::{CustomerId, EventId};
use crate::domain::money::Money;
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{Enum, ID, Interface, Object};

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

impl From<EventRow> for ActivityEvent {
    fn from(row: EventRow) -> Self {
        match ActivityKind::from_stored(&row.event_type).unwrap_or(ActivityKind::Custom) {
            ActivityKind::Order => Self::Order(OrderEvent(row)),
            ActivityKind::Email => Self::Email(EmailEvent(row)),
            ActivityKind::PageView => Self::PageView(PageViewEvent(row)),
            ActivityKind::Support => Self::Support(SupportEvent(row)),
            ActivityKind::Custom => Self::Custom(CustomEvent(row)),
        }
    }
}

/// Declares a concrete event type: the interface's fields plus its own.
macro_rules! event_type {
    ($(#[$doc:meta])* $name:ident { $($extra:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(pub EventRow);

        $(#[$doc])*
        #[Object]
        impl $name {
            /// The event's id (`evt_...`).
            async fn id(&self) -> ID {
                ID(EventId(self.0.id).to_string())
            }
            /// The customer the event belongs to.
            async fn customer_id(&self) -> ID {
                ID(CustomerId(self.0.customer_id).to_string())
            }
            /// What kind of event this is.
            #[graphql(name = "type")]
            async fn event_type(&self) -> ActivityType {
                ActivityKind::from_stored(&self.0.event_type).unwrap_or(ActivityKind::Custom).into()
            }
            /// A short human-readable summary, e.g. `Order #1047 placed`.
            async fn title(&self) -> String {
                self.0.title.clone()
            }
            /// The amount involved (orders, custom events), in the store's currency.
            async fn amount(&self) -> Option<f64> {
                self.0.amount.map(|a| Money(a).as_major())
            }
            /// When it happened.
            async fn occurred_at(&self) -> Timestamp {
                Timestamp(self.0.occurred_at)
            }
            /// The caller's id for the event; recording it again is a no-op.
            async fn external_id(&self) -> Option<String> {
                self.0.external_id.clone()
            }
            /// Free-form details (a JSON object).
            async fn properties(&self) -> Json {
                Json(self.0.properties.clone())
            }
            $($extra)*
        }
    };
}

event_type!(
    /// An order the customer placed.
    OrderEvent {
        /// The store's order number or id.
        async fn order_id(&self) -> Option<&str> {
            self.0.order_id.as_deref()
        }
    }
);

event_type!(
    /// An email sent to the customer, or opened or clicked by them.
    EmailEvent {
        /// The campaign the email belongs to.
        async fn campaign_id(&self) -> Option<&str> {
            self.0.campaign_id.as_deref()
        }
    }
);

event_type!(
    /// A page of the store the customer viewed.
    PageViewEvent {
        /// Where the visitor came from.
        async fn referrer(&self) -> Option<&str> {
            self.0.referrer.as_deref()
        }
    }
);

event_type!(
    /// A support conversation with the customer.
    SupportEvent {
        /// Who handled it.
        async fn agent(&self) -> Option<&str> {
            self.0.agent.as_deref()
        }
    }
);

event_type!(
    /// Any other event the store records.
    CustomEvent {}
);
