//! Webhooks (SPEC §10): endpoints (`createWebhookEndpoint`, `webhookEndpoints`,
//! `deleteWebhookEndpoint`) and their delivery log.

pub mod mutation;
pub mod query;
pub mod types;
