//! The request policy every operation passes through, whatever the transport. In order, before
//! anything runs: the query text's size and nesting (checked before parsing, which recurses),
//! one parse, the operation the request names, what the transport and the key allow (GET runs
//! queries only, read-only keys no mutations, some keys no introspection), depth (introspection
//! has a budget of its own), cost against the limit, the input values (no NUL character in any
//! argument or variable, `input_guard`), and then cost against the key's rate-limit bucket.
//! Then the operation runs within the request timeout, on a lease of the pool that keeps it to
//! its share; what it was charged beyond its actual cost is refunded, and every response
//! reports `extensions.cost`. Every error leaves with an `extensions.code`.
//!
//! It wraps the schema rather than registering an extension: async-graphql routes every field
//! of every response through the extension chain once any extension exists, and a page of
//! customers with their timelines has thousands of fields.

use super::AppSchema;
use super::batches::Batches;
use super::context::{RequestContext, Transport};
use super::cost::{CostModel, Tally};
use super::errors::{code, ensure_code};
use super::loaders::Loaders;
use super::input_guard;
use super::query_text;
use super::throttle::{Status, Throttle};
use crate::config::LimitsConfig;
use crate::db::gate::{Gate, Lease};
use crate::db::statements;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{ErrorExtensionValues, Request, Response, ServerError, Value};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The schema with the policy around it: what the HTTP and WebSocket handlers execute.
#[derive(Clone)]
pub struct Api(Arc<ApiInner>);

struct ApiInner {
    schema: AppSchema,
    limits: LimitsConfig,
    cost: CostModel,
    throttle: Throttle,
    gate: Gate,
    timeout: Duration,
}

/// Why an operation did not run (or ran into the database being away): the transport answers
/// with the status this calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The query text is longer than allowed (HTTP 413).
    TooLarge,
    /// A mutation sent with GET (HTTP 405, `Allow: POST`).
    MethodNotAllowed,
    /// The key's bucket holds too few points (HTTP 429, `Retry-After`).
    RateLimited { retry_after_secs: u64 },
    /// The database is away or busy (HTTP 503, `Retry-After`).
    Unavailable,
    /// The operation ran past the request timeout (HTTP 503).
    TimedOut,
}

/// Seconds a client is asked to wait when the database is away.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// An operation's response, and what the transport needs to know besides.
pub struct Executed {
    pub response: Response,
    pub refusal: Option<Refusal>,
    /// SQL statements the operation ran.
    pub statements: u64,
    /// What the request asked to run, once known (a request refused before it was parsed has
    /// none).
    pub operation: Option<OperationType>,
}

impl Executed {
    fn refused(errors: Vec<ServerError>, refusal: Option<Refusal>) -> Self {
        Self { response: Response::from_errors(errors), refusal, statements: 0, operation: None }
    }
}

/// An operation that passed every check, with its share of the pool and its points taken.
struct Admitted {
    operation: OperationDefinition,
    requested: u64,
    lease: Lease,
    status: Status,
}

impl Api {
    pub fn new(schema: AppSchema, limits: LimitsConfig, throttle: Throttle, gate: Gate, timeout: Duration) -> Self {
        let cost = CostModel::new(&schema.sdl());
        Self(Arc::new(ApiInner { schema, limits, cost, throttle, gate, timeout }))
    }

    /// Runs a query or mutation for `caller`.
    pub async fn execute(&self, caller: RequestContext, mut request: Request) -> Executed {
        match self.admit(&caller, &mut request).await {
            Ok(admitted) => self.run(caller, request, admitted).await,
            Err(refused) => self.finish(refused, &caller),
        }
    }

    /// Runs an admitted query or mutation.
    async fn run(&self, caller: RequestContext, mut request: Request, admitted: Admitted) -> Executed {
        if admitted.operation.ty == OperationType::Subscription {
            let message = "subscriptions run over the WebSocket at /graphql/ws (graphql-transport-ws or graphql-ws)";
            return self.finish(Executed::refused(vec![coded(message.into(), code::BAD_USER_INPUT)], None), &caller);
        }
        // what the actual cost is counted from, once the request has gone into the schema
        let document = request.parsed_query().ok().cloned();
        let variables = request.variables.clone();
        let batches = Batches::default();
        let request = request
            .data(Loaders::for_request(&admitted.lease, caller.grant.store_id, &batches))
            .data(admitted.lease.clone())
            .data(caller.clone());
        let counter = Arc::new(AtomicU64::new(0));
        let execution = statements::counted(counter.clone(), batches.drive(self.0.schema.execute(request)));
        let mut executed = match tokio::time::timeout(self.0.timeout, execution).await {
            Ok(response) => Executed { response, refusal: None, statements: 0, operation: Some(admitted.operation.ty) },
            Err(_) => {
                let message = format!("the request took longer than {} s", self.0.timeout.as_secs());
                Executed { operation: Some(admitted.operation.ty), ..Executed::refused(vec![coded(message, code::QUERY_TOO_COMPLEX)], Some(Refusal::TimedOut)) }
            }
        };
        executed.statements = counter.load(Ordering::Relaxed);
        let actual = match &document {
            Some(document) if executed.refusal.is_none() => {
                self.0.cost.actual(document, &admitted.operation, &variables, &executed.response.data).min(admitted.requested)
            }
            _ => admitted.requested,
        };
        let status = self.0.throttle.refund(&caller.grant, admitted.status, admitted.requested - actual);
        report_cost(&mut executed.response, admitted.requested, Some(actual), status);
        self.finish(executed, &caller)
    }

    /// Runs any operation for `caller` as a stream of responses (WebSocket): a subscription's
    /// events, or a query's or mutation's one response.
    pub fn stream(&self, caller: RequestContext, mut request: Request) -> BoxStream<'static, Response> {
        let api = self.clone();
        futures_util::stream::once(async move {
            let admitted = match api.admit(&caller, &mut request).await {
                Ok(admitted) => admitted,
                Err(refused) => return futures_util::stream::once(async move { api.finish(refused, &caller).response }).boxed(),
            };
            if admitted.operation.ty != OperationType::Subscription {
                return futures_util::stream::once(async move { api.run(caller, request, admitted).await.response }).boxed();
            }
            let request = request
                .data(Loaders::spawning(&admitted.lease, caller.grant.store_id))
                .data(admitted.lease.clone())
                .data(caller.clone());
            let events = api.0.schema.execute_stream(request);
            let operation = Some(OperationType::Subscription);
            events.map(move |response| api.finish(Executed { response, refusal: None, statements: 0, operation }, &caller).response).boxed()
        })
        .flatten()
        .boxed()
    }

    /// Checks the request against every limit, parses it once, and takes its points.
    async fn admit(&self, caller: &RequestContext, request: &mut Request) -> Result<Admitted, Executed> {
        let limits = &self.0.limits;
        match query_text::check(&request.query, limits.max_query_bytes, limits.max_nesting) {
            Ok(()) => {}
            Err(query_text::Refusal::TooLong { max }) => {
                let message = format!("the query is longer than {max} bytes");
                return Err(Executed::refused(vec![coded(message, code::QUERY_TOO_COMPLEX)], Some(Refusal::TooLarge)));
            }
            Err(query_text::Refusal::TooDeep { max }) => {
                let message = format!("the query nests brackets deeper than {max} levels");
                return Err(Executed::refused(vec![coded(message, code::BAD_USER_INPUT)], None));
            }
        }
        let name = request.operation_name.clone();
        let variables = request.variables.clone();
        let document = request.parsed_query().map_err(|error| Executed::refused(vec![error], None))?;
        let operation = select(document, name.as_deref()).map_err(|message| Executed::refused(vec![coded(message, code::BAD_USER_INPUT)], None))?;
        match (operation.ty, caller.transport) {
            (OperationType::Mutation, Transport::HttpGet) => {
                let refused = coded("mutations must be sent with POST".into(), code::BAD_USER_INPUT);
                return Err(Executed::refused(vec![refused], Some(Refusal::MethodNotAllowed)));
            }
            (OperationType::Mutation, _) if caller.grant.read_only => {
                return Err(Executed::refused(vec![coded("This API key is read-only: it may not run mutations".into(), code::FORBIDDEN)], None));
            }
            _ => {}
        }
        let tally = self.0.cost.requested(document, operation, &variables);
        self.check(caller, &tally).map_err(|error| Executed::refused(vec![error], None))?;
        input_guard::check(document, operation, &variables).map_err(|refused| Executed::refused(vec![refused_input(refused)], None))?;
        let operation = operation.clone();
        let lease = self.0.gate.lease(caller.grant.store_id);
        let status = match self.0.throttle.take(&lease, &caller.grant, tally.cost).await {
            Ok(Ok(status)) => status,
            Ok(Err(throttled)) => {
                let retry_after_secs = throttled.retry_after_secs();
                let message = format!(
                    "Rate limited: this operation costs {} points and the key's bucket holds {:.0} (it refills at {} a second); retry in {} s",
                    tally.cost, throttled.status.available, throttled.status.bucket.restore, retry_after_secs
                );
                let mut error = coded(message, code::RATE_LIMITED);
                error.extensions.get_or_insert_with(Default::default).set("retryAfterSeconds", retry_after_secs);
                let mut refused = Executed::refused(vec![error], Some(Refusal::RateLimited { retry_after_secs }));
                report_cost(&mut refused.response, tally.cost, None, throttled.status);
                return Err(refused);
            }
            Err(err) => {
                let error = crate::graphql::errors::request_level(err);
                return Err(Executed::refused(vec![error], None));
            }
        };
        Ok(Admitted { operation, requested: tally.cost, lease, status })
    }

    /// Depth, introspection and cost limits.
    fn check(&self, caller: &RequestContext, tally: &Tally) -> Result<(), ServerError> {
        let limits = &self.0.limits;
        if tally.depth > limits.max_depth {
            return Err(coded(format!("Query depth {} exceeds the limit of {}", tally.depth, limits.max_depth), code::QUERY_TOO_COMPLEX));
        }
        if tally.introspection_depth > limits.max_introspection_depth {
            let message = format!("Introspection depth {} exceeds the limit of {}", tally.introspection_depth, limits.max_introspection_depth);
            return Err(coded(message, code::QUERY_TOO_COMPLEX));
        }
        if tally.introspects && !(limits.introspection && caller.grant.introspection) {
            return Err(coded("Introspection is turned off for this API key".into(), code::FORBIDDEN));
        }
        // fields selected once fragments are expanded: what validation and execution walk
        let max_fields = (limits.max_complexity as u64).max(1_000);
        if tally.fields > max_fields {
            let message = format!("The query selects {} fields once its fragments are expanded; the limit is {max_fields}", tally.fields);
            return Err(coded(message, code::QUERY_TOO_COMPLEX));
        }
        let bucket = self.0.throttle.bucket(&caller.grant);
        let max = (limits.max_complexity as u64).min(bucket.size as u64);
        if tally.cost > max {
            let message = format!(
                "Query cost {} exceeds the limit of {max} (a page costs 2 plus `first` times each item's cost; ask for smaller pages)",
                tally.cost
            );
            let mut error = coded(message, code::QUERY_TOO_COMPLEX);
            error.extensions.get_or_insert_with(Default::default).set("requestedQueryCost", tally.cost);
            return Err(error);
        }
        Ok(())
    }

    /// Gives every error its code and notes a database outage for the transport.
    fn finish(&self, mut executed: Executed, caller: &RequestContext) -> Executed {
        for error in &mut executed.response.errors {
            ensure_code(error, Some(&caller.request_id));
        }
        let unavailable = || {
            executed.response.errors.iter().any(|e| e.extensions.as_ref().and_then(|x| x.get("code")) == Some(&Value::from(code::UNAVAILABLE)))
        };
        if executed.refusal.is_none() && unavailable() {
            executed.refusal = Some(Refusal::Unavailable);
        }
        executed
    }
}

/// The operation a request runs: the named one, or the only one.
fn select<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Result<&'a OperationDefinition, String> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => Ok(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|op| &op.node).ok_or_else(|| format!("the document has no operation named `{name}`"))
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => Ok(&operations.values().next().expect("one").node),
        (DocumentOperations::Multiple(_), None) => Err("the document has several operations: name one with `operationName`".into()),
        (DocumentOperations::Single(_), Some(name)) => Err(format!("the document has no operation named `{name}`")),
    }
}

/// `extensions.cost`, as Shopify reports it.
fn report_cost(response: &mut Response, requested: u64, actual: Option<u64>, status: Status) {
    let throttle = Value::from_json(serde_json::json!({
        "maximumAvailable": status.bucket.size,
        "currentlyAvailable": status.available.floor(),
        "restoreRate": status.bucket.restore,
    }))
    .expect("numbers");
    let mut cost = async_graphql::indexmap::IndexMap::new();
    cost.insert(async_graphql::Name::new("requestedQueryCost"), Value::from(requested));
    cost.insert(async_graphql::Name::new("actualQueryCost"), actual.map_or(Value::Null, Value::from));
    cost.insert(async_graphql::Name::new("throttleStatus"), throttle);
    response.extensions.insert("cost".into(), Value::Object(cost));
}

/// A value the input guard refused, as `BAD_USER_INPUT` at its argument path.
fn refused_input(refused: input_guard::Refused) -> ServerError {
    let mut err = coded(format!("{}: {}", refused.path.join("."), refused.message), code::BAD_USER_INPUT);
    err.locations = refused.pos.into_iter().collect();
    let path = refused.path.into_iter().map(Value::from).collect();
    err.extensions.get_or_insert_with(Default::default).set("inputPath", Value::List(path));
    err
}

fn coded(message: String, code: &str) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    #[test]
    fn the_operation_is_the_named_or_the_only_one() {
        let one = parse_query("query A { a }").unwrap();
        assert!(select(&one, None).is_ok());
        assert!(select(&one, Some("A")).is_ok());
        assert!(select(&one, Some("B")).is_err());
        let two = parse_query("query A { a } mutation B { b }").unwrap();
        assert_eq!(select(&two, Some("B")).unwrap().ty, OperationType::Mutation);
        assert!(select(&two, None).unwrap_err().contains("operationName"));
        let anonymous = parse_query("{ a }").unwrap();
        assert!(select(&anonymous, Some("A")).is_err());
    }
}
