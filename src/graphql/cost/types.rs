//! The schema's shape as the cost walker needs it: for every output type, its fields' result
//! types (named type, list or not, whether they page with `first`). Read once from the schema's
//! own SDL, so it cannot drift from the code.

use async_graphql::parser::types::{BaseType, FieldDefinition, Type, TypeKind, TypeSystemDefinition};
use async_graphql::Positioned;
use std::collections::HashMap;

/// What a field returns.
#[derive(Debug, Clone)]
pub struct FieldShape {
    /// The named type at the bottom of any list wrappers.
    pub ty: String,
    pub list: bool,
    /// Whether the field takes a `first` argument (a page).
    pub paged: bool,
}

/// An output type: an object or interface (with fields), or a leaf (scalar or enum).
#[derive(Debug, Clone, Default)]
pub struct TypeShape {
    pub fields: HashMap<String, FieldShape>,
    /// Scalars and enums: nothing to select inside.
    pub leaf: bool,
}

/// Every output type by name, and the root types.
#[derive(Debug, Clone, Default)]
pub struct SchemaShape {
    pub types: HashMap<String, TypeShape>,
    pub query: String,
    pub mutation: String,
    pub subscription: String,
}

impl SchemaShape {
    /// Reads the shape from SDL (as `Schema::sdl` prints it).
    pub fn from_sdl(sdl: &str) -> Self {
        let document = async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        let mut shape = SchemaShape { query: "Query".into(), mutation: "Mutation".into(), subscription: "Subscription".into(), ..Default::default() };
        for scalar in ["Int", "Float", "String", "Boolean", "ID"] {
            shape.types.insert(scalar.into(), TypeShape { leaf: true, ..Default::default() });
        }
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    let name = |root: Option<Positioned<async_graphql::Name>>, default: &str| root.map_or(default.to_owned(), |n| n.node.to_string());
                    shape.query = name(schema.query, "Query");
                    shape.mutation = name(schema.mutation, "Mutation");
                    shape.subscription = name(schema.subscription, "Subscription");
                }
                TypeSystemDefinition::Type(definition) => {
                    let definition = definition.node;
                    let ty = match &definition.kind {
                        TypeKind::Scalar | TypeKind::Enum(_) => TypeShape { leaf: true, ..Default::default() },
                        TypeKind::Object(object) => TypeShape { fields: fields(&object.fields), leaf: false },
                        TypeKind::Interface(interface) => TypeShape { fields: fields(&interface.fields), leaf: false },
                        TypeKind::Union(_) | TypeKind::InputObject(_) => TypeShape::default(),
                    };
                    shape.types.insert(definition.name.node.to_string(), ty);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        shape
    }
}

fn fields(definitions: &[Positioned<FieldDefinition>]) -> HashMap<String, FieldShape> {
    definitions
        .iter()
        .map(|field| {
            let field = &field.node;
            let (ty, list) = named(&field.ty.node);
            let paged = field.arguments.iter().any(|a| a.node.name.node == "first");
            (field.name.node.to_string(), FieldShape { ty, list, paged })
        })
        .collect()
}

/// The named type under a type's wrappers, and whether a list wraps it.
fn named(ty: &Type) -> (String, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.to_string(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}
