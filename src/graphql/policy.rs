//! The request policy every operation passes through, whatever the transport:
//! depth and complexity limits (as `QUERY_TOO_COMPLEX` with the numbers), read-only keys kept
//! from mutations (`FORBIDDEN`), and an `extensions.code` on every error (`errors::ensure_code`).

use super::context::RequestContext;
use super::errors::{code, ensure_code};
use crate::config::LimitsConfig;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, ServerResult, ValidationResult, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::sync::{Arc, Mutex};

/// The factory registered on the schema.
pub struct Policy {
    limits: LimitsConfig,
}

impl Policy {
    pub fn new(limits: LimitsConfig) -> Self {
        Self { limits }
    }
}

impl ExtensionFactory for Policy {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PolicyExtension { limits: self.limits.clone(), operation_name: Mutex::new(None) })
    }
}

/// One request's instance (extensions are created per request).
struct PolicyExtension {
    limits: LimitsConfig,
    operation_name: Mutex<Option<String>>,
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

fn error(message: String, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

fn request_id<'a>(ctx: &ExtensionContext<'a>) -> Option<&'a str> {
    ctx.data_opt::<RequestContext>().map(|r| r.request_id.as_str())
}

#[async_graphql::async_trait::async_trait]
impl Extension for PolicyExtension {
    /// Covers errors raised before execution (parsing, validation); no request data exists yet.
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        response.errors.iter_mut().for_each(|e| ensure_code(e, None));
        response
    }

    /// Covers resolver errors, with the request id for internal ones.
    async fn execute(&self, ctx: &ExtensionContext<'_>, operation_name: Option<&str>, next: NextExecute<'_>) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let id = request_id(ctx);
        response.errors.iter_mut().for_each(|e| ensure_code(e, id));
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let id = request_id(ctx).map(str::to_owned);
        next.run(ctx, stream)
            .map(move |mut response| {
                response.errors.iter_mut().for_each(|e| ensure_code(e, id.as_deref()));
                response
            })
            .boxed()
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *self.operation_name.lock().expect("not poisoned") = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let name = self.operation_name.lock().expect("not poisoned").clone();
        let read_only = ctx.data_opt::<RequestContext>().is_some_and(|r| r.grant.read_only);
        if read_only && operation_type(&doc, name.as_deref()) == Some(OperationType::Mutation) {
            return Err(error("This API key is read-only: it may not run mutations".into(), code::FORBIDDEN));
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        let max = &self.limits;
        if result.depth > max.max_depth {
            let message = format!("Query depth {} exceeds the limit of {}", result.depth, max.max_depth);
            return Err(vec![error(message, code::QUERY_TOO_COMPLEX)]);
        }
        if result.complexity > max.max_complexity {
            let message = format!(
                "Query cost {} exceeds the limit of {} (a list costs `first` times its selection)",
                result.complexity, max.max_complexity
            );
            return Err(vec![error(message, code::QUERY_TOO_COMPLEX)]);
        }
        Ok(result)
    }
}
