//! One guard over a request's input values, after its one parse and before anything runs: every
//! argument of every field the operation selects (its inline values with the request's
//! variables in them), and then every variable the request sent. A NUL character (U+0000) in
//! any string or object key is refused with `BAD_USER_INPUT` at the argument path it sits at
//! (`input.metadata.source`, `rules.0.value`): PostgreSQL's `text` and `jsonb` cannot hold it,
//! and would otherwise answer with an error only the server could read.

use crate::domain::nul;
use async_graphql::parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet};
use async_graphql_value::Value as InlineValue;
use async_graphql::{Name, Pos, Value, Variables};
use std::collections::{HashMap, HashSet};

/// A value refused, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The argument path (an argument name, then keys and list indexes); `$name` first for a
    /// variable no argument uses.
    pub path: Vec<String>,
    /// Where in the query the field whose argument it is sits.
    pub pos: Option<Pos>,
    pub message: &'static str,
}

/// Checks the arguments `operation` passes (with `variables` and their defaults in them), then
/// every variable. Each variable's value is read once, however many arguments name it.
pub fn check(document: &ExecutableDocument, operation: &OperationDefinition, variables: &Variables) -> Result<(), Refused> {
    let sent: Vec<(&str, Vec<String>)> = variables.iter().filter_map(|(name, value)| Some((name.as_str(), find(value)?))).collect();
    let defaulted: Vec<(&str, Vec<String>)> = operation
        .variable_definitions
        .iter()
        .filter_map(|d| Some((d.node.name.node.as_str(), find(&d.node.default_value.as_ref()?.node)?)))
        .collect();
    // what an argument naming a variable holds: the value sent, else the default
    let mut refused: HashMap<&str, Vec<String>> = defaulted.iter().filter(|(name, _)| variables.get(&Name::new(name)).is_none()).cloned().collect();
    refused.extend(sent.iter().cloned());
    let mut walk = Walk { document, refused, seen: HashSet::new() };
    walk.selection_set(&operation.selection_set.node)?;
    if let Some((name, path)) = sent.into_iter().chain(defaulted).next() {
        return Err(Refused { path: [format!("${name}")].into_iter().chain(path).collect(), pos: None, message: nul::MESSAGE });
    }
    Ok(())
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    /// Variables whose value holds a NUL character, and where in it.
    refused: HashMap<&'a str, Vec<String>>,
    /// Fragments already walked (their arguments are the same wherever they are spread).
    seen: HashSet<&'a Name>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<(), Refused> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        if let Some(below) = self.argument(&value.node) {
                            let path = [name.node.to_string()].into_iter().chain(below).collect();
                            return Err(Refused { path, pos: Some(field.pos), message: nul::MESSAGE });
                        }
                    }
                    self.selection_set(&field.node.selection_set.node)?;
                }
                Selection::InlineFragment(fragment) => self.selection_set(&fragment.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if let Some((name, fragment)) = self.document.fragments.get_key_value(name)
                        && self.seen.insert(name)
                    {
                        self.selection_set(&fragment.node.selection_set.node)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The path below an argument's inline value to a NUL character, in the value itself or in
    /// a variable it names.
    fn argument(&self, value: &InlineValue) -> Option<Vec<String>> {
        match value {
            InlineValue::Variable(name) => self.refused.get(name.as_str()).cloned(),
            InlineValue::String(s) if s.contains('\0') => Some(Vec::new()),
            InlineValue::Enum(name) if name.contains('\0') => Some(Vec::new()),
            InlineValue::List(items) => items.iter().enumerate().find_map(|(i, v)| self.argument(v).map(|p| prefixed(i.to_string(), p))),
            InlineValue::Object(map) => map.iter().find_map(|(k, v)| {
                if k.contains('\0') { Some(vec![nul::printable(k)]) } else { self.argument(v).map(|p| prefixed(k.to_string(), p)) }
            }),
            _ => None,
        }
    }
}

/// The path below `value` to the first string, enum or object key holding a NUL character.
fn find(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) if s.contains('\0') => Some(Vec::new()),
        Value::Enum(name) if name.contains('\0') => Some(Vec::new()),
        Value::List(items) => items.iter().enumerate().find_map(|(i, v)| find(v).map(|p| prefixed(i.to_string(), p))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') { Some(vec![nul::printable(k)]) } else { find(v).map(|p| prefixed(k.to_string(), p)) }
        }),
        _ => None,
    }
}

fn prefixed(head: String, mut tail: Vec<String>) -> Vec<String> {
    tail.insert(0, head);
    tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;
    use async_graphql::parser::types::DocumentOperations;

    fn run(query: &str, variables: serde_json::Value) -> Result<(), Refused> {
        let document = parse_query(query).unwrap();
        let operation = match &document.operations {
            DocumentOperations::Single(op) => op.node.clone(),
            DocumentOperations::Multiple(ops) => ops.values().next().unwrap().node.clone(),
        };
        check(&document, &operation, &Variables::from_json(variables))
    }

    #[test]
    fn finds_nul_in_inline_values_and_variables_at_the_argument_path() {
        let err = run(r#"{ customerByEmail(email: "a\u0000b") { id } }"#, serde_json::json!({})).unwrap_err();
        assert_eq!(err.path, ["email"]);
        let query = "mutation($m: JSON) { createCustomer(input: {email: \"a@b.co\", metadata: $m}) { created } }";
        let err = run(query, serde_json::json!({ "m": { "source": "x\u{0}" } })).unwrap_err();
        assert_eq!(err.path, ["input", "metadata", "source"]);
        let err = run("query($r: [SegmentRuleInput!]) { ...F } fragment F on Query { customers(rules: $r) { totalCount } }", serde_json::json!({ "r": [{ "field": "email", "operator": "eq", "value": "\u{0}" }] })).unwrap_err();
        assert_eq!(err.path, ["rules", "0", "value"]);
    }

    #[test]
    fn finds_nul_in_keys_unused_variables_and_defaults() {
        assert_eq!(run("query($x: JSON) { a }", serde_json::json!({ "x": { "k\u{0}": 1 } })).unwrap_err().path, ["$x", "k\\0"]);
        assert_eq!(run("query($x: String = \"\\u0000\") { a }", serde_json::json!({})).unwrap_err().path, ["$x"]);
        assert!(run("query($x: JSON) { a(b: $x, c: \"fine\") }", serde_json::json!({ "x": { "k": ["v", 1, null] } })).is_ok());
    }

    #[test]
    fn fragments_that_spread_each_other_end() {
        assert!(run("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A a }", serde_json::json!({})).is_ok());
    }
}
