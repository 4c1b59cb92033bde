//! Metadata: string key–value pairs a store attaches to a customer, with Stripe's limits
//! (≤ 50 keys, key ≤ 40 characters, value ≤ 500 characters). Updates merge; a null deletes.

use super::InputError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The most keys a customer's metadata may hold.
pub const MAX_KEYS: usize = 50;
/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 40;
/// The longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 500;

/// A customer's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, String>);

/// A change to metadata: `Some(value)` sets a key, `None` deletes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataPatch(BTreeMap<String, Option<String>>);

impl MetadataPatch {
    /// Reads a JSON object whose values are strings, numbers, booleans (kept as their text) or
    /// null (delete the key).
    pub fn parse(field: &str, value: &Value) -> Result<Self, InputError> {
        let Value::Object(map) = value else {
            return Err(InputError::new(field, "must be an object of string values"));
        };
        map.iter()
            .map(|(key, value)| {
                let at = format!("{field}.{key}");
                check_key(&at, key)?;
                let value = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(b.to_string()),
                    _ => return Err(InputError::new(&at, "must be a string, number, boolean or null")),
                };
                if let Some(v) = &value {
                    if v.chars().count() > MAX_VALUE_CHARS {
                        return Err(InputError::new(&at, format!("must be at most {MAX_VALUE_CHARS} characters")));
                    }
                    super::nul::refuse(&at, v)?;
                }
                Ok((key.clone(), value))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl MetadataPatch {
    /// The patch as a containment filter (`metadata @> {...}`): every value must be given.
    pub fn into_filter(self, field: &str) -> Result<Value, InputError> {
        let map = self
            .0
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => Ok((k, Value::String(v))),
                None => Err(InputError::new(&format!("{field}.{k}"), "a filter value must not be null")),
            })
            .collect::<Result<Map<_, _>, _>>()?;
        Ok(Value::Object(map))
    }
}

impl Metadata {
    /// Applies `patch`, refusing a result with more than [`MAX_KEYS`] keys.
    pub fn apply(&mut self, field: &str, patch: MetadataPatch) -> Result<(), InputError> {
        for (key, value) in patch.0 {
            match value {
                Some(value) => self.0.insert(key, value),
                None => self.0.remove(&key),
            };
        }
        if self.0.len() > MAX_KEYS {
            return Err(InputError::new(field, format!("may hold at most {MAX_KEYS} keys")));
        }
        Ok(())
    }

    /// Metadata read back from the database (an object of strings by construction).
    pub fn from_stored(value: &Value) -> Self {
        let map = value.as_object().into_iter().flatten();
        Self(map.filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
    }

    /// The JSON object stored and returned.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
    }
}

/// Validates a metadata key (also used by list filters).
pub fn check_key(field: &str, key: &str) -> Result<(), InputError> {
    if key.is_empty() || key.chars().count() > MAX_KEY_CHARS {
        return Err(InputError::new(field, format!("a metadata key must be 1 to {MAX_KEY_CHARS} characters")));
    }
    if key.chars().any(|c| c.is_control() || c == '[' || c == ']') {
        return Err(InputError::new(field, "a metadata key must not contain control characters or brackets"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> MetadataPatch {
        MetadataPatch::parse("metadata", &v).unwrap()
    }

    #[test]
    fn merges_and_deletes() {
        let mut m = Metadata::default();
        m.apply("metadata", patch(json!({"source": "trade_show", "rep": "mike_d", "n": 3}))).unwrap();
        m.apply("metadata", patch(json!({"rep": null, "source": "web"}))).unwrap();
        assert_eq!(m.to_json(), json!({"source": "web", "n": "3"}));
    }

    #[test]
    fn enforces_stripes_limits() {
        let long_key = "k".repeat(41);
        assert_eq!(MetadataPatch::parse("metadata", &json!({ long_key: "v" })).unwrap_err().path.len(), 2);
        assert!(MetadataPatch::parse("metadata", &json!({"k": "v".repeat(501)})).is_err());
        assert!(MetadataPatch::parse("metadata", &json!({"k": {"nested": 1}})).is_err());
        assert!(MetadataPatch::parse("metadata", &json!(["k"])).is_err());
        assert!(MetadataPatch::parse("metadata", &json!({"": "v"})).is_err());
        assert_eq!(MetadataPatch::parse("metadata", &json!({"source": "a\u{0}"})).unwrap_err().path, ["metadata", "source"]);
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        let mut m = Metadata::default();
        assert_eq!(m.apply("metadata", patch(Value::Object(many))).unwrap_err().path, ["metadata"]);
    }

    #[test]
    fn filters_need_values() {
        assert_eq!(patch(json!({"tier": "gold", "n": 1})).into_filter("metadata").unwrap(), json!({"tier": "gold", "n": "1"}));
        assert!(patch(json!({"tier": null})).into_filter("metadata").is_err());
    }

    #[test]
    fn deleting_makes_room_in_the_same_patch() {
        let full: Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!("v"))).collect();
        let mut m = Metadata::default();
        m.apply("metadata", patch(Value::Object(full))).unwrap();
        m.apply("metadata", patch(json!({"k0": null, "new": "v"}))).unwrap();
        assert_eq!(m.to_json().as_object().unwrap().len(), 50);
    }
}
