//! Objects resolved without futures. Leaf objects — events, notes, addresses — have fields that
//! are all plain values of a row, and hundreds of them make up a page; so do the objects holding
//! them once their rows are at hand (a page's customers, their connections, `PageInfo`).
//! async-graphql resolves every field of an object as its own boxed future, joined through a
//! `FuturesUnordered`; for a field that only reads memory, that machinery costs far more than
//! the value. A [`Leaf`] resolves a plain selection of such fields directly, and anything else
//! (fragments, directives, a repeated response key, a field whose rows are not at hand) through
//! async-graphql as usual, so both paths give the same response (tested).
//!
//! [`leaf_object!`] declares a type's plain GraphQL fields once and derives both paths from that
//! list; fields with arguments or objects of their own get a resolver for each path. The direct
//! path skips async-graphql's field-level extension hooks; this schema has none (its policy is
//! an executor, `policy`), and one added later would see only the general path's fields.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, OutputType, Positioned, ScalarType, ServerResult, Value,
};
use std::borrow::Cow;

/// A type (object, or interface of such objects) whose fields can be read without futures.
pub trait LeafFields: OutputType + ContainerType {
    /// The value of the plain field called `name` (its GraphQL name), or `None` for a field
    /// this method does not know.
    fn leaf_field(&self, name: &str) -> Option<Value>;

    /// The value of the field `ctx` resolves when it is not plain (it takes arguments or selects
    /// fields of its own, resolved directly in turn), or `None` for a field the direct path
    /// cannot resolve, which sends the whole selection down the general path.
    fn nested_field(&self, _ctx: &Context<'_>) -> Option<Value> {
        None
    }
}

/// A leaf object in a response: the same GraphQL type as `T`, resolved directly.
#[derive(Clone)]
pub struct Leaf<T>(pub T);

/// `value`'s response object for the selection set of `ctx`, if every selection is a plain
/// field the direct path resolves.
pub fn resolve_directly<T: LeafFields>(value: &T, ctx: &ContextSelectionSet<'_>) -> Option<Value> {
    let items = &ctx.item.node.items;
    let mut object = IndexMap::with_capacity(items.len());
    for selection in items {
        let Selection::Field(field) = &selection.node else { return None };
        if !field.node.directives.is_empty() {
            return None;
        }
        let key = field.node.response_key().node.clone();
        let name = field.node.name.node.as_str();
        let resolved = if name == "__typename" {
            Value::String(value.introspection_type_name().into_owned())
        } else if let Some(plain) = value.leaf_field(name) {
            plain
        } else {
            value.nested_field(&ctx.with_field(field))?
        };
        if object.insert(key, resolved).is_some() {
            // a repeated response key: async-graphql merges the selections
            return None;
        }
    }
    Some(Value::Object(object))
}

/// The value of the object field `ctx` resolves, holding `value`.
pub fn object<T: LeafFields>(ctx: &Context<'_>, value: &T) -> Option<Value> {
    resolve_directly(value, &ctx.with_selection_set(&ctx.item.node.selection_set))
}

/// The value of the list field `ctx` resolves, holding `items`.
pub fn list<'a, T: LeafFields + 'a>(ctx: &Context<'_>, items: impl IntoIterator<Item = &'a T>) -> Option<Value> {
    let selection = ctx.with_selection_set(&ctx.item.node.selection_set);
    items.into_iter().map(|item| resolve_directly(item, &selection)).collect::<Option<_>>().map(Value::List)
}

impl<T: LeafFields> OutputType for Leaf<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        match resolve_directly(&self.0, ctx) {
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

impl LeafValue for &[String] {
    fn leaf_value(self) -> Value {
        Value::List(self.iter().map(|s| Value::String(s.clone())).collect())
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
scalar_leaf_values!(i32, crate::graphql::scalars::Timestamp, crate::graphql::scalars::Json);

/// Declares an object's fields once for both paths. A plain field (`name "graphqlName": Type =
/// expression,`) becomes a resolver of the `#[Object]` (documented for the schema) and an arm of
/// [`LeafFields::leaf_field`]; a resolver written out (`async fn ...`, for a field with arguments
/// or objects of its own) joins the `#[Object]` where it stands, and `nested: path;` names the
/// function that resolves such fields directly ([`LeafFields::nested_field`]). `$this` names
/// `self` in the expressions.
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
        $name:ident($this:ident) { $($fields:tt)* }
        $(nested: $nested:path;)?
    ) => {
        $crate::leaf_object!(@fields [[$(#[$doc])*] $name $this [$($nested)?]] [] [] $($fields)*);
    };
    // a resolver written out: the general path's only
    (
        @fields $head:tt [$($resolvers:tt)*] [$($arms:tt)*]
        $(#[$field_doc:meta])* async fn $field:ident($($params:tt)*) -> $ty:ty $body:block
        $($rest:tt)*
    ) => {
        $crate::leaf_object!(
            @fields $head [$($resolvers)* $(#[$field_doc])* async fn $field($($params)*) -> $ty $body] [$($arms)*] $($rest)*
        );
    };
    // a plain field: both paths
    (
        @fields [$doc:tt $name:ident $this:ident $nested:tt] [$($resolvers:tt)*] [$($arms:tt)*]
        $(#[$field_doc:meta])* $field:ident $graphql:literal : $ty:ty = $value:expr,
        $($rest:tt)*
    ) => {
        $crate::leaf_object!(
            @fields [$doc $name $this $nested]
            [
                $($resolvers)*
                $(#[$field_doc])*
                #[graphql(name = $graphql)]
                async fn $field(&self) -> $ty {
                    let $this = self;
                    $value
                }
            ]
            [
                $($arms)*
                $graphql => {
                    let value: $ty = $value;
                    Some($crate::graphql::leaf::LeafValue::leaf_value(value))
                }
            ]
            $($rest)*
        );
    };
    (@fields [[$($doc:tt)*] $name:ident $this:ident [$($nested:path)?]] [$($resolvers:tt)*] [$($arms:tt)*]) => {
        $($doc)*
        #[async_graphql::Object]
        impl $name {
            $($resolvers)*
        }

        impl $crate::graphql::leaf::LeafFields for $name {
            #[allow(unused_variables, reason = "an object may have no plain fields")]
            fn leaf_field(&self, name: &str) -> Option<async_graphql::Value> {
                let $this = self;
                match name {
                    $($arms)*
                    _ => None,
                }
            }

            $(
                fn nested_field(&self, ctx: &async_graphql::Context<'_>) -> Option<async_graphql::Value> {
                    $nested(self, ctx)
                }
            )?
        }
    };
}
