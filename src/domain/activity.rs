//! Activity events: what a customer did (orders, emails, page views, support chats, custom
//! events), validated once at the edge. Only ORDER events move the customer's order totals.

use super::money::Money;
use super::text::{bounded_text, optional_text};
use super::InputError;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// The largest `properties` object, serialised.
pub const MAX_PROPERTIES_BYTES: usize = 16 * 1024;
/// How far in the future an event may claim to have happened (clock skew between systems).
pub const FUTURE_SKEW: Duration = Duration::minutes(5);
/// The most events one `recordActivities` call may carry.
pub const MAX_BATCH: usize = 1000;

/// The kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActivityKind {
    Order,
    Email,
    PageView,
    Support,
    Custom,
}

impl ActivityKind {
    /// Every kind, in the order the API lists them.
    pub const ALL: [Self; 5] = [Self::Order, Self::Email, Self::PageView, Self::Support, Self::Custom];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "ORDER",
            Self::Email => "EMAIL",
            Self::PageView => "PAGE_VIEW",
            Self::Support => "SUPPORT",
            Self::Custom => "CUSTOM",
        }
    }

    /// Reads the stored form.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// An event as the caller sent it.
#[derive(Debug, Clone)]
pub struct RawActivity {
    pub kind: ActivityKind,
    pub title: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub amount: Option<f64>,
    pub external_id: Option<String>,
    pub order_id: Option<String>,
    pub campaign_id: Option<String>,
    pub referrer: Option<String>,
    pub agent: Option<String>,
    pub properties: Option<Value>,
}

impl RawActivity {
    /// An event of `kind` with only its title: the time it is recorded, no amount or ids.
    pub fn titled(kind: ActivityKind, title: &str) -> Self {
        Self {
            kind,
            title: title.to_owned(),
            occurred_at: None,
            amount: None,
            external_id: None,
            order_id: None,
            campaign_id: None,
            referrer: None,
            agent: None,
            properties: None,
        }
    }
}

/// A validated event, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub title: String,
    pub occurred_at: DateTime<Utc>,
    pub amount: Option<Money>,
    pub external_id: Option<String>,
    pub order_id: Option<String>,
    pub campaign_id: Option<String>,
    pub referrer: Option<String>,
    pub agent: Option<String>,
    pub properties: Value,
}

impl NewActivity {
    /// Validates `raw` as of `now`; error paths are relative to the input object.
    pub fn parse(raw: &RawActivity, now: DateTime<Utc>) -> Result<Self, InputError> {
        let kind = raw.kind;
        let title = bounded_text("title", Some(&raw.title), MAX_TITLE_CHARS)?.ok_or_else(|| InputError::new("title", "is required"))?;
        let occurred_at = raw.occurred_at.unwrap_or(now);
        if occurred_at > now + FUTURE_SKEW {
            return Err(InputError::new("occurredAt", "must not be in the future"));
        }
        if occurred_at < DateTime::UNIX_EPOCH {
            return Err(InputError::new("occurredAt", "must be after 1970-01-01"));
        }
        let amount = match (kind, raw.amount) {
            (ActivityKind::Order, None) => return Err(InputError::new("amount", "is required for ORDER events")),
            (ActivityKind::Order | ActivityKind::Custom, Some(a)) => {
                Some(Money::from_major(a).ok_or_else(|| InputError::new("amount", Money::limit_message()))?)
            }
            (_, Some(_)) => return Err(InputError::new("amount", "applies to ORDER and CUSTOM events only")),
            (_, None) => None,
        };
        if kind == ActivityKind::Order && amount.is_some_and(|a| a.0 < 0) {
            return Err(InputError::new("amount", "must not be negative for an ORDER"));
        }
        let only = |field: &str, value: &Option<String>, for_kind: ActivityKind| -> Result<Option<String>, InputError> {
            let value = optional_text(field, value.as_deref())?;
            if value.is_some() && kind != for_kind {
                return Err(InputError::new(field, format!("applies to {} events only", for_kind.as_str())));
            }
            Ok(value)
        };
        let properties = match &raw.properties {
            None => Value::Object(Default::default()),
            Some(v @ Value::Object(_)) => {
                super::nul::refuse_in_json("properties", v)?;
                if serde_json::to_vec(v).map_or(usize::MAX, |b| b.len()) > MAX_PROPERTIES_BYTES {
                    return Err(InputError::new("properties", format!("must be at most {MAX_PROPERTIES_BYTES} bytes of JSON")));
                }
                v.clone()
            }
            Some(_) => return Err(InputError::new("properties", "must be a JSON object")),
        };
        Ok(Self {
            kind,
            title,
            occurred_at,
            amount,
            external_id: optional_text("externalId", raw.external_id.as_deref())?,
            order_id: only("orderId", &raw.order_id, ActivityKind::Order)?,
            campaign_id: only("campaignId", &raw.campaign_id, ActivityKind::Email)?,
            referrer: only("referrer", &raw.referrer, ActivityKind::PageView)?,
            agent: only("agent", &raw.agent, ActivityKind::Support)?,
            properties,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(kind: ActivityKind) -> RawActivity {
        RawActivity::titled(kind, "Order #1047 placed")
    }

    fn err(raw: RawActivity) -> Vec<String> {
        NewActivity::parse(&raw, Utc::now()).unwrap_err().path
    }

    #[test]
    fn orders_need_a_non_negative_amount() {
        assert_eq!(err(raw(ActivityKind::Order)), ["amount"]);
        assert_eq!(err(RawActivity { amount: Some(-1.0), ..raw(ActivityKind::Order) }), ["amount"]);
        let ok = NewActivity::parse(&RawActivity { amount: Some(289.0), ..raw(ActivityKind::Order) }, Utc::now()).unwrap();
        assert_eq!(ok.amount, Some(Money(28900)));
        assert_eq!(err(RawActivity { amount: Some(1.0), ..raw(ActivityKind::Email) }), ["amount"]);
    }

    #[test]
    fn type_specific_fields_belong_to_their_type() {
        assert_eq!(err(RawActivity { campaign_id: Some("camp_1".into()), ..raw(ActivityKind::PageView) }), ["campaignId"]);
        assert_eq!(err(RawActivity { agent: Some("Whale Agent".into()), ..raw(ActivityKind::Email) }), ["agent"]);
        assert!(NewActivity::parse(&RawActivity { referrer: Some("https://google.com".into()), ..raw(ActivityKind::PageView) }, Utc::now()).is_ok());
    }

    #[test]
    fn refuses_future_times_beyond_the_skew() {
        let now = Utc::now();
        let soon = RawActivity { occurred_at: Some(now + Duration::minutes(4)), ..raw(ActivityKind::Email) };
        assert!(NewActivity::parse(&soon, now).is_ok());
        let later = RawActivity { occurred_at: Some(now + Duration::minutes(6)), ..raw(ActivityKind::Email) };
        assert_eq!(NewActivity::parse(&later, now).unwrap_err().path, ["occurredAt"]);
    }

    #[test]
    fn properties_must_be_a_small_object() {
        assert_eq!(err(RawActivity { properties: Some(json!([1])), ..raw(ActivityKind::Custom) }), ["properties"]);
        let big = json!({ "blob": "x".repeat(MAX_PROPERTIES_BYTES) });
        assert_eq!(err(RawActivity { properties: Some(big), ..raw(ActivityKind::Custom) }), ["properties"]);
        assert_eq!(err(RawActivity { title: " ".into(), ..raw(ActivityKind::Custom) }), ["title"]);
        assert_eq!(err(RawActivity { title: "x".repeat(501), ..raw(ActivityKind::Custom) }), ["title"]);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in ActivityKind::ALL {
            assert_eq!(ActivityKind::from_stored(kind.as_str()), Some(kind));
        }
    }
}
