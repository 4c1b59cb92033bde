//! NUL characters (U+0000): PostgreSQL's `text` and `jsonb` cannot hold them, so any text that
//! may reach the database is refused with them, as the caller's mistake, before it gets there.
//! The GraphQL edge checks every argument at once (`graphql::input_guard`); the parsers of
//! domain values check again so that every interface keeps the rule.

use super::InputError;
use serde_json::Value;

/// What a refused value is told.
pub const MESSAGE: &str = "must not contain NUL characters (U+0000)";

/// Refuses `text` (at `field`) if it holds a NUL character.
pub fn refuse(field: &str, text: &str) -> Result<(), InputError> {
    if text.contains('\0') { Err(InputError::new(field, MESSAGE)) } else { Ok(()) }
}

/// The path below `value` of the first string or object key holding a NUL character (an empty
/// path when `value` itself is such a string), if any.
pub fn find_in_json(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) if s.contains('\0') => Some(Vec::new()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| find_in_json(v).map(|p| prefixed(i.to_string(), p))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(vec![printable(k)])
            } else {
                find_in_json(v).map(|p| prefixed(k.clone(), p))
            }
        }),
        _ => None,
    }
}

/// Refuses a JSON value (at `field`) holding a NUL character in any string or key, with the
/// path to it.
pub fn refuse_in_json(field: &str, value: &Value) -> Result<(), InputError> {
    match find_in_json(value) {
        None => Ok(()),
        Some(below) => Err(InputError { path: InputError::new(field, "").path.into_iter().chain(below).collect(), message: MESSAGE.into() }),
    }
}

/// A key as a path shows it: NUL characters written as `\u{0}`.
pub fn printable(key: &str) -> String {
    key.escape_debug().to_string()
}

fn prefixed(head: String, mut tail: Vec<String>) -> Vec<String> {
    tail.insert(0, head);
    tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_path_to_a_nul() {
        assert_eq!(find_in_json(&json!({"a": [1, {"b": "x\u{0}"}]})), Some(vec!["a".into(), "1".into(), "b".into()]));
        assert_eq!(find_in_json(&json!({"k\u{0}": 1})), Some(vec!["k\\0".into()]));
        assert_eq!(find_in_json(&json!({"a": ["fine", 2, null]})), None);
    }

    #[test]
    fn refuses_with_the_full_path() {
        assert_eq!(refuse_in_json("input.properties", &json!({"x": "\u{0}"})).unwrap_err().path, ["input", "properties", "x"]);
        assert!(refuse("email", "a\u{0}@b.co").is_err());
        assert!(refuse("email", "a@b.co").is_ok());
    }
}
