//! `webhookEndpoints` and `webhookEndpoint`.

use super::types::WebhookEndpoint;
use crate::db::webhooks;
use crate::domain::ids::WebhookEndpointId;
use crate::error::AppError;
use crate::graphql::context;
use async_graphql::{Context, ID, Object, Result};

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The store's webhook endpoints, oldest first.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let mut conn = context::conn(ctx).await?;
        Ok(webhooks::endpoints(&mut conn, context::store(ctx)?).await.map_err(AppError::from)?.into_iter().map(WebhookEndpoint).collect())
    }

    /// A webhook endpoint by id; null when there is none in this store.
    async fn webhook_endpoint(&self, ctx: &Context<'_>, #[graphql(desc = "The endpoint's id (`we_...`).")] id: ID) -> Result<Option<WebhookEndpoint>> {
        let id = endpoint_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        Ok(webhooks::endpoint(&mut conn, context::store(ctx)?, id).await.map_err(AppError::from)?.map(WebhookEndpoint))
    }
}

/// Reads an endpoint id argument.
pub fn endpoint_id(arg: &str, id: &ID) -> Result<WebhookEndpointId, AppError> {
    WebhookEndpointId::parse(id).map_err(|e| AppError::bad_input(arg, e.to_string()))
}
