//! `requestDataRemoval`.

use super::types::{DataExportFormat, DataRequest, DataRequestType};
use crate::config::ServerSecret;
use crate::db::{customers, data_requests};
use crate::domain::data_request::{DataRequestKind, ExportFormat, email_proof, parse_reason};
use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::customers::query::customer_id;
use crate::jobs::JobKind;
use async_graphql::{Context, ID, InputObject, Object, Result};

/// What to request.
#[derive(InputObject)]
pub struct DataRequestInput {
    /// What to request.
    #[graphql(name = "type")]
    pub request_type: DataRequestType,
    /// For an export: how the archive is written (default JSON).
    pub format: Option<DataExportFormat>,
    /// Why (up to 500 characters; cleared when an erasure completes).
    pub reason: Option<String>,
    /// Whether the customer should be told when it completes (recorded on the request).
    #[graphql(default)]
    pub notify_customer: bool,
}

/// Data protection mutations.
#[derive(Default)]
pub struct DataRequestMutation;

#[Object]
impl DataRequestMutation {
    /// Asks for a customer's data to be erased, or exported as an archive (then served at
    /// `downloadUrl`). The work runs in the background (a durable job, retried until done);
    /// follow `status`. While a request of the same type for the customer is
    /// open, that request is returned instead of a second one.
    async fn request_data_removal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the request is about.")] customer_id: ID,
        #[graphql(desc = "What to request.")] input: DataRequestInput,
    ) -> Result<DataRequest> {
        let customer = self::customer_id("customerId", &customer_id)?;
        let reason = parse_reason("input.reason", input.reason.as_deref()).map_err(AppError::from)?;
        let store = context::store(ctx)?;
        let secret = ctx.data::<ServerSecret>()?;
        let mut conn = context::conn(ctx).await?;
        let row = customers::find(&mut conn, store, customer).await.map_err(AppError::from)?;
        let row = row.ok_or_else(|| AppError::not_found("customer", customer, "customerId"))?;
        let kind = DataRequestKind::from(input.request_type);
        let format = match (kind, input.format) {
            (DataRequestKind::Export, format) => Some(ExportFormat::from(format.unwrap_or(DataExportFormat::Json))),
            (DataRequestKind::Erasure, None) => None,
            (DataRequestKind::Erasure, Some(_)) => return Err(AppError::bad_input("input.format", "applies to EXPORT requests only").into()),
        };
        let new = data_requests::NewDataRequest {
            customer,
            kind,
            format,
            reason,
            notify_customer: input.notify_customer,
            // the proof an erasure leaves; an export needs none
            email_hash: (kind == DataRequestKind::Erasure).then(|| email_proof(&secret.0, &row.email)),
        };
        let job = match kind {
            DataRequestKind::Erasure => JobKind::DataRequestErasure,
            DataRequestKind::Export => JobKind::DataRequestExport,
        };
        let (request, _created) = data_requests::create(&mut conn, store, &new, |id| data_requests::job_for(store, id, job.as_str(), job.max_attempts()))
            .await
            .map_err(AppError::from)?;
        Ok(DataRequest(request))
    }
}
