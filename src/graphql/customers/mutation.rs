//! Customer mutations: create (idempotent on email), partial update, delete.

use super::inputs::{CustomerCreateInput, CustomerUpdateInput};
use super::query::customer_id;
use super::types::Customer;
use crate::db::customers;
use crate::domain::customer::{CustomerUpdate, NewCustomer, RawCustomerUpdate, RawNewCustomer};
use crate::error::AppError;
use crate::graphql::context;
use async_graphql::{Context, ID, Object, Result, SimpleObject};

/// Customer changes.
#[derive(Default)]
pub struct CustomerMutation;

/// The result of `createCustomer`.
#[derive(SimpleObject)]
pub struct CreateCustomerPayload {
    /// The new customer, or the existing one with the same email (left untouched).
    pub customer: Customer,
    /// True when a customer was created; false when one with this email already existed.
    pub created: bool,
}

/// The result of `updateCustomer`.
#[derive(SimpleObject)]
pub struct UpdateCustomerPayload {
    /// The customer as it is after the update.
    pub customer: Customer,
}

/// The result of `deleteCustomer`.
#[derive(SimpleObject)]
pub struct DeleteCustomerPayload {
    /// The id of the customer that was deleted.
    pub deleted_customer_id: ID,
}

#[Object]
impl CustomerMutation {
    /// Creates a customer. If the store already has a customer with this email (ignoring case),
    /// returns that customer untouched with `created: false`, also when requests race.
    async fn create_customer(&self, ctx: &Context<'_>, #[graphql(desc = "The new customer.")] input: CustomerCreateInput) -> Result<CreateCustomerPayload> {
        let new = NewCustomer::parse(&RawNewCustomer::from(&input)).map_err(|e| AppError::from(e.under("input")))?;
        let mut conn = context::conn(ctx).await?;
        let (row, created) = customers::create(&mut conn, context::store(ctx)?, &new).await?;
        Ok(CreateCustomerPayload { customer: Customer::new(row), created })
    }

    /// Changes a customer: absent fields are kept, null clears, tags can be replaced, added or
    /// removed, metadata keys merge (a null value deletes the key).
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "The changes.")] input: CustomerUpdateInput,
    ) -> Result<UpdateCustomerPayload> {
        let id = customer_id("id", &id)?;
        let change = CustomerUpdate::parse(&RawCustomerUpdate::from(&input)).map_err(|e| AppError::from(e.under("input")))?;
        let mut conn = context::conn(ctx).await?;
        let store = context::store(ctx)?;
        let row = if change.is_empty() {
            customers::find(&mut conn, store, id).await.map_err(AppError::from)?.ok_or_else(|| AppError::not_found("customer", id, "id"))?
        } else {
            customers::update(&mut conn, store, id, &change).await?
        };
        Ok(UpdateCustomerPayload { customer: Customer::new(row) })
    }

    /// Deletes a customer and its addresses.
    async fn delete_customer(&self, ctx: &Context<'_>, #[graphql(desc = "The customer's id.")] id: ID) -> Result<DeleteCustomerPayload> {
        let customer = customer_id("id", &id)?;
        let mut conn = context::conn(ctx).await?;
        if !customers::delete(&mut conn, context::store(ctx)?, customer).await.map_err(AppError::from)? {
            return Err(AppError::not_found("customer", customer, "id").into());
        }
        Ok(DeleteCustomerPayload { deleted_customer_id: id })
    }
}
