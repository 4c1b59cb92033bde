//! The cost of an operation, in points — checked against the query limits and charged to the
//! caller's rate-limit bucket. Requested cost is known before anything runs: a page counts its
//! `first`, a list its bound (see `prices` for the table). Actual cost is counted from the
//! response: a page counts the items it returned; the difference is refunded.
//!
//! The walk reads the schema's shape from its own SDL (`types`), so every type and field the
//! schema has is priced the same way, and it also measures depth (introspection apart, with a
//! depth budget of its own) and how many fields the operation selects once fragments are
//! expanded.

mod prices;
mod types;
mod walk;

pub use prices::{DEFAULT_FIRST, MAX_FIRST};
pub use walk::Tally;

use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, OperationType};
use async_graphql::{Value, Variables};
use types::SchemaShape;
use walk::Walker;

/// Prices operations against one schema.
#[derive(Debug, Clone)]
pub struct CostModel {
    shape: SchemaShape,
}

impl CostModel {
    /// The model of the schema whose SDL this is.
    pub fn new(sdl: &str) -> Self {
        Self { shape: SchemaShape::from_sdl(sdl) }
    }

    /// What `operation` may cost, how deep it goes and how much it selects, before it runs.
    pub fn requested(&self, document: &ExecutableDocument, operation: &OperationDefinition, variables: &Variables) -> Tally {
        let mut walker = Walker::new(&self.shape, document, variables, defaults(operation));
        walker.requested(&operation.selection_set.node, self.root(operation.ty), None)
    }

    /// What `operation` cost, given the data it returned (never more than requested).
    pub fn actual(&self, document: &ExecutableDocument, operation: &OperationDefinition, variables: &Variables, data: &Value) -> u64 {
        let mut walker = Walker::new(&self.shape, document, variables, defaults(operation));
        walker.actual(&operation.selection_set.node, self.root(operation.ty), data)
    }

    fn root(&self, ty: OperationType) -> &str {
        match ty {
            OperationType::Query => &self.shape.query,
            OperationType::Mutation => &self.shape.mutation,
            OperationType::Subscription => &self.shape.subscription,
        }
    }
}

fn defaults(operation: &OperationDefinition) -> std::collections::HashMap<&str, &Value> {
    operation.variable_definitions.iter().filter_map(|d| Some((d.node.name.node.as_str(), &d.node.default_value.as_ref()?.node))).collect()
}

#[cfg(test)]
mod tests;
