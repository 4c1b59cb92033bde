//! Leaf objects — events, notes, addresses: types whose fields are all plain values of a row,
//! hundreds of which make up a page. async-graphql resolves every field of an object as its own
//! boxed future, joined through a `FuturesUnordered`; for a field that only reads the row, that
//! machinery costs far more than the value. A [`Leaf`] resolves a plain selection of such
//! fields directly, and anything else (fragments, directives, a repeated response key) through
//! async-graphql as usual, so both paths give the same response (tested).
//!
//! [`leaf_object!`] declares a leaf type's GraphQL fields once and derives both paths from that
//! list. The direct path skips async-graphql's field-level extension hooks; this schema has none
//! (its policy is an executor, `policy`), and one added later would see only the general path's
//! fields.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, OutputType, Positioned, ScalarType, ServerResult, Value,
};
use std::borrow::Cow;

/// A type (object, or interface of such objects) whose fields can be read without futures.
pub trait LeafFields: OutputType + ContainerType {
    /// The value of the field called `name` (its GraphQL name), or `None` for a field this
    /// path does not know (which sends the whole selection down the general path).
    fn leaf_field(&self, name: &str) -> Option<Value>;
}

/// A leaf object in a response: the same GraphQL type as `T`, resolved directly.
#[derive(Clone)]
pub struct Leaf<T>(pub T);

impl<T: LeafFields> Leaf<T> {
    /// The selection's response object, if every selection is a plain field this path knows.
    fn resolve_directly(&self, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
        let items = &ctx.item.node.items;
        let mut object = IndexMap::with_capacity(items.len());
        for selection in items {
            let Selection::Field(field) = &selection.node else { return None };
            if !field.node.directives.is_empty() {
                return None;
            }
            let key = field.node.response_key().node.clone();
            let name = field.node.name.node.as_str();
            let value = if name == "__typename" {
                Value::String(self.0.introspection_type_name().into_owned())
            } else {
                self.0.leaf_field(name)?
            };
            if object.insert(key, value).is_some() {
                // a repeated response key: async-graphql merges the selections
                return None;
            }
        }
        Some(Value::Object(object))
    }
}

impl<T: LeafFields> OutputType for Leaf<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match self.resolve_directly(ctx) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

impl<T: LeafFields> ContainerType for Leaf<T> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        self.0.resolve_field(ctx).await
    }
}

/// A field's Rust value as a response value, as async-graphql would render it.
pub trait LeafValue {
    fn leaf_value(self) -> Value;
}

impl LeafValue for &str {
    fn leaf_value(self) -> Value {
        Value::String(self.to_owned())
    }
}

impl LeafValue for String {
    fn leaf_value(self) -> Value {
        Value::String(self)
    }
}

impl LeafValue for ID {
    fn leaf_value(self) -> Value {
        Value::String(self.0)
    }
}

impl LeafValue for bool {
    fn leaf_value(self) -> Value {
        Value::Boolean(self)
    }
}

impl LeafValue for f64 {
    fn leaf_value(self) -> Value {
        ScalarType::to_value(&self)
    }
}

impl<T: LeafValue> LeafValue for Option<T> {
    fn leaf_value(self) -> Value {
        self.map_or(Value::Null, LeafValue::leaf_value)
    }
}

/// Scalars of this API render through their `ScalarType`.
macro_rules! scalar_leaf_values {
    ($($t:ty),*) => {
        $(impl LeafValue for $t {
            fn leaf_value(self) -> Value {
                ScalarType::to_value(&self)
            }
        })*
    };
}
scalar_leaf_values!(crate::graphql::scalars::Timestamp, crate::graphql::scalars::Json);

/// Declares a leaf object's fields once: each becomes a resolver of the `#[Object]` (documented
/// for the schema) and an arm of [`LeafFields::leaf_field`]. `$this` names `self` in the
/// expressions.
///
/// ```ignore
/// leaf_object! {
///     /// A note kept on a customer.
///     Note(this) {
///         /// The text.
///         body "body": &str = &this.0.body,
///     }
/// }
/// ```
#[macro_export]
macro_rules! leaf_object {
    (
        $(#[$doc:meta])*
        $name:ident($this:ident) {
            $( $(#[$field_doc:meta])* $field:ident $graphql:literal : $ty:ty = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$doc])*
        #[async_graphql::Object]
        impl $name {
            $(
                $(#[$field_doc])*
                #[graphql(name = $graphql)]
                async fn $field(&self) -> $ty {
                    let $this = self;
                    $value
                }
            )*
        }

        impl $crate::graphql::leaf::LeafFields for $name {
            fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
                let $this = self;
                match name {
                    $($graphql => {
                        let value: $ty = $value;
                        Some($crate::graphql::leaf::LeafValue::leaf_value(value))
                    })*
                    _ => None,
                }
            }
        }
    };
}
