//! Scalars with the formats SPEC §4 fixes: `DateTime` as RFC 3339 UTC with milliseconds, and a
//! `JSON` object for metadata.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// An instant, written as RFC 3339 in UTC with milliseconds (`2026-03-08T14:30:00.000Z`).
/// Accepted as any RFC 3339 time, or as a date (`2026-01-01`, meaning its midnight UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

/// An instant, written as RFC 3339 in UTC with milliseconds (`2026-03-08T14:30:00.000Z`).
/// Accepted as any RFC 3339 time, or as a date (`2026-01-01`, meaning its midnight UTC).
#[Scalar(name = "DateTime")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        let Value::String(text) = &value else {
            return Err(InputValueError::expected_type(value));
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(text) {
            return Ok(Self(t.with_timezone(&Utc)));
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| Self(t.and_utc()))
            .ok_or_else(|| InputValueError::custom("expected an RFC 3339 time such as 2026-03-08T14:30:00.000Z, or a date"))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// A JSON object. Customer metadata is an object of string values.
#[derive(Debug, Clone, PartialEq)]
pub struct Json(pub serde_json::Value);

/// A JSON object. Customer metadata is an object of string values.
#[Scalar(name = "JSON")]
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        Ok(Self(value.into_json().map_err(|_| InputValueError::custom("expected JSON"))?))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_milliseconds_in_utc() {
        let t = Timestamp::parse(Value::from("2026-03-08T15:30:00.123456+01:00")).unwrap();
        assert_eq!(t.to_value(), Value::from("2026-03-08T14:30:00.123Z"));
    }

    #[test]
    fn reads_dates_as_midnight_utc() {
        let t = Timestamp::parse(Value::from("2026-01-01")).unwrap();
        assert_eq!(t.to_value(), Value::from("2026-01-01T00:00:00.000Z"));
        assert!(Timestamp::parse(Value::from("yesterday")).is_err());
        assert!(Timestamp::parse(Value::from(3)).is_err());
    }
}
