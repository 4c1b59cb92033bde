//! `WebhookEndpoint`, `WebhookDelivery` and their enums.

use crate::db::webhooks::{self as stored, DeliveryFilter};
use crate::domain::ids::{WebhookDeliveryId, WebhookEndpointId, WebhookEventId};
use crate::domain::webhook::EventType;
use crate::error::AppError;
use crate::graphql::activity::connection::TimeCursor;
use crate::graphql::context;
use crate::graphql::pagination::{PageInfo, keyset_page, page_size};
use crate::graphql::scalars::{Json, Timestamp};
use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};

/// An event a webhook endpoint can receive. Deliveries name it in their `event` field.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookEventType {
    /// `customer.created`: a customer was created (`data`: the customer).
    CustomerCreated,
    /// `customer.updated`: a customer's profile or addresses changed (`data`: the customer as
    /// it is now). Activity that moves order totals does not send it.
    CustomerUpdated,
    /// `customer.deleted`: a customer was deleted or erased (`data`: `{ id }`).
    CustomerDeleted,
    /// `data_request.completed`: an erasure or export completed (`data`: the request; for an
    /// export, with a `downloadUrl` valid for an hour from that delivery attempt).
    DataRequestCompleted,
    /// `data_request.failed`: a request failed for good (`data`: the request).
    DataRequestFailed,
}

impl From<WebhookEventType> for EventType {
    fn from(t: WebhookEventType) -> Self {
        match t {
            WebhookEventType::CustomerCreated => Self::CustomerCreated,
            WebhookEventType::CustomerUpdated => Self::CustomerUpdated,
            WebhookEventType::CustomerDeleted => Self::CustomerDeleted,
            WebhookEventType::DataRequestCompleted => Self::DataRequestCompleted,
            WebhookEventType::DataRequestFailed => Self::DataRequestFailed,
        }
    }
}

impl From<EventType> for WebhookEventType {
    fn from(t: EventType) -> Self {
        match t {
            EventType::CustomerCreated => Self::CustomerCreated,
            EventType::CustomerUpdated => Self::CustomerUpdated,
            EventType::CustomerDeleted => Self::CustomerDeleted,
            EventType::DataRequestCompleted => Self::DataRequestCompleted,
            EventType::DataRequestFailed => Self::DataRequestFailed,
        }
    }
}

/// Where a delivery stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Not yet delivered: waiting for its first attempt or its next retry.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every attempt failed (retried with backoff for about a day).
    Failed,
}

impl WebhookDeliveryStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }
}

/// A URL of the store's that receives events, signed with the endpoint's secret.
pub struct WebhookEndpoint(pub stored::EndpointRow);

/// A URL of the store's that receives events, signed with the endpoint's secret.
#[Object]
impl WebhookEndpoint {
    /// The endpoint's id (`we_...`).
    async fn id(&self) -> ID {
        ID(WebhookEndpointId(self.0.id).to_string())
    }
    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The events it receives.
    async fn events(&self) -> Vec<WebhookEventType> {
        self.0.events.iter().filter_map(|e| EventType::from_stored(e)).map(Into::into).collect()
    }
    /// What it is for, as given.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The last four characters of its signing secret (the secret itself is shown once, by
    /// `createWebhookEndpoint`).
    async fn secret_hint(&self) -> String {
        let secret = &self.0.secret;
        format!("…{}", &secret[secret.len().saturating_sub(4)..])
    }
    /// When it was created.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// Its delivery log, newest first: every event sent or to be sent to it, with the outcome
    /// of the last attempt.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only deliveries in this status.")] status: Option<WebhookDeliveryStatus>,
        #[graphql(desc = "Only deliveries of this event.")] event: Option<WebhookEventType>,
        #[graphql(desc = "Page size, 0 to 250 (default 25).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (`pageInfo.endCursor`).")] after: Option<String>,
    ) -> Result<WebhookDeliveryConnection> {
        let first = page_size(first)?;
        let position = TimeCursor::parse("after", after.as_deref())?;
        let filter = DeliveryFilter { endpoint: WebhookEndpointId(self.0.id), status: status.map(WebhookDeliveryStatus::as_str), event_type: event.map(Into::into) };
        let mut conn = context::conn(ctx).await?;
        let rows = stored::deliveries(&mut conn, context::store(ctx)?, filter, position, first + 1).await.map_err(AppError::from)?;
        let (rows, page_info) = keyset_page(rows, first, position.is_some(), |d| TimeCursor::encode(d.row.created_at, d.row.id));
        Ok(WebhookDeliveryConnection { nodes: rows.into_iter().map(WebhookDelivery).collect(), page_info })
    }
}

/// One event's delivery to one endpoint.
pub struct WebhookDelivery(pub stored::Delivery);

/// One event's delivery to one endpoint.
#[Object]
impl WebhookDelivery {
    /// The delivery's id (`whdel_...`).
    async fn id(&self) -> ID {
        ID(WebhookDeliveryId(self.0.row.id).to_string())
    }
    /// The event's id (`whevt_...`), the same for every endpoint that received it and sent as
    /// the `Whale-Event-Id` header: receivers deduplicate on it.
    async fn event_id(&self) -> ID {
        ID(WebhookEventId(self.0.row.event_id).to_string())
    }
    /// The event.
    async fn event(&self) -> Option<WebhookEventType> {
        EventType::from_stored(&self.0.row.event_type).map(Into::into)
    }
    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        match self.0.row.status.as_str() {
            "SUCCEEDED" => WebhookDeliveryStatus::Succeeded,
            "FAILED" => WebhookDeliveryStatus::Failed,
            _ => WebhookDeliveryStatus::Pending,
        }
    }
    /// The body sent (for a completed export, each attempt also carries a fresh `downloadUrl`,
    /// which is not logged).
    async fn payload(&self) -> Json {
        Json(serde_json::from_str(&self.0.row.payload).unwrap_or_default())
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.row.attempts
    }
    /// When the last attempt was made.
    async fn last_attempt_at(&self) -> Option<Timestamp> {
        self.0.row.last_attempt_at.map(Timestamp)
    }
    /// The HTTP status the endpoint answered the last attempt with (null if it did not answer).
    async fn response_status(&self) -> Option<i32> {
        self.0.row.response_status
    }
    /// The start (up to 1,024 characters) of the endpoint's answer to the last attempt.
    async fn response_body(&self) -> Option<&str> {
        self.0.row.response_body.as_deref()
    }
    /// Why the last attempt failed (null after a success).
    async fn last_error(&self) -> Option<&str> {
        self.0.row.last_error.as_deref()
    }
    /// When the next attempt is due, while one is.
    async fn next_attempt_at(&self) -> Option<Timestamp> {
        self.0.next_attempt_at.map(Timestamp)
    }
    /// When the event happened.
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.row.created_at)
    }
}

/// A page of deliveries, newest first.
#[derive(SimpleObject)]
pub struct WebhookDeliveryConnection {
    /// The deliveries on this page.
    pub nodes: Vec<WebhookDelivery>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
}
