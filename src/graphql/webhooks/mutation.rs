//! `createWebhookEndpoint` and `deleteWebhookEndpoint`.

use super::query::endpoint_id;
use super::types::{WebhookEndpoint, WebhookEventType};
use crate::config::WebhooksConfig;
use crate::db::webhooks::{self, NewEndpoint};
use crate::domain::text::bounded_text;
use crate::domain::webhook::{self, EventType, MAX_ENDPOINTS_PER_STORE};
use crate::error::AppError;
use crate::graphql::context;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

/// A new webhook endpoint.
#[derive(InputObject)]
pub struct WebhookEndpointInput {
    /// Where to POST events: an absolute `https://` (or `http://`) URL without credentials, at
    /// most 2,048 characters, reaching a public address.
    pub url: String,
    /// The events to send it (at least one).
    pub events: Vec<WebhookEventType>,
    /// What it is for (up to 500 characters).
    pub description: Option<String>,
}

/// The result of `createWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct CreateWebhookEndpointPayload {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// Its signing secret (`whsec_...`), shown this once: verify each delivery's
    /// `Whale-Signature` header with it.
    pub secret: String,
}

/// The result of `deleteWebhookEndpoint`.
#[derive(SimpleObject)]
pub struct DeleteWebhookEndpointPayload {
    /// The id of the endpoint that was deleted.
    pub deleted_webhook_endpoint_id: ID,
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Adds an endpoint that receives the chosen events, each POSTed as JSON with a
    /// `Whale-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` header, retried
    /// with backoff for about a day until it answers 2xx. A store has at most 16 endpoints.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint.")] input: WebhookEndpointInput,
    ) -> Result<CreateWebhookEndpointPayload> {
        let allow_private = ctx.data::<WebhooksConfig>()?.allow_private;
        let url = webhook::parse_url("input.url", &input.url, allow_private).map_err(AppError::from)?;
        if input.events.is_empty() {
            return Err(AppError::bad_input("input.events", "must name at least one event").into());
        }
        let mut events: Vec<EventType> = Vec::new();
        for event in input.events.iter().map(|&e| EventType::from(e)) {
            if !events.contains(&event) {
                events.push(event);
            }
        }
        let new = NewEndpoint {
            url: url.to_string(),
            events,
            description: bounded_text("input.description", input.description.as_deref(), 500).map_err(AppError::from)?,
            secret: webhook::new_secret(),
        };
        let mut conn = context::conn(ctx).await?;
        let created = webhooks::create_endpoint(&mut conn, context::store(ctx)?, &new).await.map_err(AppError::from)?;
        let endpoint = created.ok_or_else(|| AppError::bad_input("input", format!("a store may have at most {MAX_ENDPOINTS_PER_STORE} webhook endpoints")))?;
        Ok(CreateWebhookEndpointPayload { endpoint: WebhookEndpoint(endpoint), secret: new.secret })
    }

    /// Deletes an endpoint with its delivery log; deliveries still pending are not sent.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, #[graphql(desc = "The endpoint's id.")] id: ID) -> Result<DeleteWebhookEndpointPayload> {
        let endpoint = endpoint_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        if !webhooks::delete_endpoint(&mut conn, context::store(ctx)?, endpoint).await.map_err(AppError::from)? {
            return Err(AppError::not_found("webhook endpoint", endpoint, "id").into());
        }
        Ok(DeleteWebhookEndpointPayload { deleted_webhook_endpoint_id: id })
    }
}
