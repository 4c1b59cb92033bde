//! The request policy every operation passes through, whatever the transport: read-only keys
//! kept from mutations (`FORBIDDEN`), depth and complexity limits reported as
//! `QUERY_TOO_COMPLEX`, and an `extensions.code` on every error (`errors::ensure_code`).
//!
//! It wraps the schema as an [`Executor`] rather than registering an extension: async-graphql
//! routes every field of every response through the extension chain once any extension exists,
//! and a page of customers with their timelines has thousands of fields.

use super::AppSchema;
use super::context::RequestContext;
use super::errors::{code, ensure_code};
use crate::config::LimitsConfig;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Data, ErrorExtensionValues, Executor, Request, Response, ServerError};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::any::TypeId;
use std::sync::Arc;

/// The schema with the policy around it: what the HTTP and WebSocket handlers execute.
#[derive(Clone)]
pub struct Api {
    schema: AppSchema,
    limits: Arc<LimitsConfig>,
}

impl Api {
    pub fn new(schema: AppSchema, limits: LimitsConfig) -> Self {
        Self { schema, limits: Arc::new(limits) }
    }

    /// Refuses the request before execution when the policy says so.
    fn admit(request: &mut Request, context: Option<&RequestContext>) -> Result<(), ServerError> {
        if context.is_some_and(|c| c.grant.read_only) {
            let name = request.operation_name.clone();
            // A query that does not parse is left to the executor, which reports why.
            let is_mutation = request.parsed_query().is_ok_and(|doc| operation_type(doc, name.as_deref()) == Some(OperationType::Mutation));
            if is_mutation {
                return Err(coded("This API key is read-only: it may not run mutations".into(), code::FORBIDDEN));
            }
        }
        Ok(())
    }

    fn finish(&self, mut response: Response, request_id: Option<&str>) -> Response {
        for error in &mut response.errors {
            explain_limit(error, &self.limits);
            ensure_code(error, request_id);
        }
        response
    }
}

impl Executor for Api {
    async fn execute(&self, mut request: Request) -> Response {
        let context = context_in(&request.data).cloned();
        if let Err(refused) = Self::admit(&mut request, context.as_ref()) {
            return self.finish(Response::from_errors(vec![refused]), None);
        }
        let response = self.schema.execute(request).await;
        self.finish(response, context.as_ref().map(|c| c.request_id.as_str()))
    }

    fn execute_stream(&self, mut request: Request, session_data: Option<Arc<Data>>) -> BoxStream<'static, Response> {
        let context = session_data.as_deref().and_then(context_in).or_else(|| context_in(&request.data)).cloned();
        let this = self.clone();
        if let Err(refused) = Self::admit(&mut request, context.as_ref()) {
            return futures_util::stream::once(async move { this.finish(Response::from_errors(vec![refused]), None) }).boxed();
        }
        let stream = match session_data {
            Some(data) => self.schema.execute_stream_with_session_data(request, data),
            None => self.schema.execute_stream(request).boxed(),
        };
        let request_id = context.map(|c| c.request_id);
        stream.map(move |response| this.finish(response, request_id.as_deref())).boxed()
    }
}

fn context_in(data: &Data) -> Option<&RequestContext> {
    data.get(&TypeId::of::<RequestContext>()).and_then(|d| d.downcast_ref::<RequestContext>())
}

/// The type of the operation a request runs: the named one, or the only one (`None` when the
/// request is ambiguous; execution then refuses it).
pub fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    let mut operations = doc.operations.iter();
    match name {
        Some(name) => operations.find(|(n, _)| n.map(|n| n.as_str()) == Some(name)).map(|(_, op)| op.node.ty),
        None => match (operations.next(), operations.next()) {
            (Some((_, op)), None) => Some(op.node.ty),
            _ => None,
        },
    }
}

fn coded(message: String, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

/// Turns async-graphql's limit errors into coded ones that state the limit.
fn explain_limit(error: &mut ServerError, limits: &LimitsConfig) {
    let message = match error.message.as_str() {
        "Query is nested too deep." => format!("Query depth exceeds the limit of {}", limits.max_depth),
        "Query is too complex." => {
            format!("Query cost exceeds the limit of {} (a list costs `first` times its selection)", limits.max_complexity)
        }
        _ => return,
    };
    *error = coded(message, code::QUERY_TOO_COMPLEX);
}
