//! Input objects for recording activity.

use super::types::ActivityType;
use crate::domain::activity::RawActivity;
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{ID, InputObject};

/// An event to record.
#[derive(InputObject, Debug, Clone)]
pub struct ActivityInput {
    /// What kind of event.
    #[graphql(name = "type")]
    pub kind: ActivityType,
    /// A short summary (1–500 characters), e.g. `Opened: Spring Collection Launch`.
    pub title: String,
    /// When it happened (default: now). At most 5 minutes in the future.
    pub occurred_at: Option<Timestamp>,
    /// The amount: required and ≥ 0 for ORDER; allowed for CUSTOM; refused otherwise.
    pub amount: Option<f64>,
    /// Your id for this event (≤ 255 characters, unique in the store): sending the same event
    /// again returns the original and changes nothing.
    pub external_id: Option<String>,
    /// ORDER only: the store's order number or id.
    pub order_id: Option<String>,
    /// EMAIL only: the campaign.
    pub campaign_id: Option<String>,
    /// PAGE_VIEW only: where the visitor came from.
    pub referrer: Option<String>,
    /// SUPPORT only: who handled the conversation.
    pub agent: Option<String>,
    /// Free-form details: a JSON object of at most 16 KiB.
    pub properties: Option<Json>,
}

impl From<&ActivityInput> for RawActivity {
    fn from(i: &ActivityInput) -> Self {
        Self {
            kind: i.kind.into(),
            title: i.title.clone(),
            occurred_at: i.occurred_at.map(|t| t.0),
            amount: i.amount,
            external_id: i.external_id.clone(),
            order_id: i.order_id.clone(),
            campaign_id: i.campaign_id.clone(),
            referrer: i.referrer.clone(),
            agent: i.agent.clone(),
            properties: i.properties.as_ref().map(|p| p.0.clone()),
        }
    }
}

/// An event for `recordActivities`, naming its customer.
#[derive(InputObject, Debug, Clone)]
pub struct CustomerActivityInput {
    /// The customer the event belongs to.
    pub customer_id: ID,
    /// The event.
    pub event: ActivityInput,
}
