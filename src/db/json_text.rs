//! A JSONB column read as its text and parsed only when a caller asks for the value: a page of
//! events carries every event's properties, but few queries select them. And the one format of
//! times in the JSON documents the server writes.

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Jsonb;

/// JSON text as PostgreSQL rendered it (valid JSON).
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct JsonText(Box<str>);

impl JsonText {
    /// The parsed value (`null` if the text were somehow not JSON).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or(serde_json::Value::Null)
    }
}

/// A time as JSON documents we write carry it: RFC 3339 UTC with milliseconds, as the API's
/// `DateTime` scalar.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl FromSql<Jsonb, Pg> for JsonText {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        // JSONB's binary form is a version byte (1) followed by the text.
        match value.as_bytes().split_first() {
            Some((1, text)) => Ok(Self(std::str::from_utf8(text)?.into())),
            _ => Err("unsupported JSONB format version".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_on_demand() {
        let text = JsonText(r#"{"items": 2, "channel": "web"}"#.into());
        assert_eq!(text.value(), serde_json::json!({ "items": 2, "channel": "web" }));
    }
}
