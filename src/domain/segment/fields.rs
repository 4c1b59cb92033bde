//! The fields rules can test, their kinds, and the operators each kind allows.

use super::rules::Operator;

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An amount of money (compared exactly, in minor units).
    Money,
    /// A whole number.
    Count,
    /// A point in time.
    Time,
    /// Text, compared without case.
    Text,
    /// A probability between 0 and 1.
    Ratio,
    /// The customer's activity events, filtered by the rule's value.
    Activity,
    /// The customer's tag list.
    Tags,
    /// True or false.
    Flag,
}

/// A field of a customer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    TotalSpent,
    TotalOrders,
    AverageOrderValue,
    LastOrderAt,
    FirstOrderAt,
    CreatedAt,
    Email,
    EmailDomain,
    FirstName,
    LastName,
    Phone,
    Tags,
    Country,
    State,
    City,
    PostalCode,
    ChurnRisk,
    RfmRecency,
    RfmFrequency,
    RfmMonetary,
    RfmSegment,
    /// Events matching a filter (`{type, campaign_id, title_contains, since}`).
    Activity,
    /// `metadata.<key>`.
    Metadata(String),
    /// Enrichment (`Customer.enrichment`).
    PhoneCountry,
    PhoneLineType,
    PhoneValid,
    EmailFreeProvider,
    EmailDisposable,
    EmailRoleAccount,
    CompanyDomain,
    LocationCountry,
    LocationRegion,
    TimeZone,
    PreferredChannel,
    MostActiveHour,
    MostActiveWeekday,
    LastSeenAt,
}

impl Field {
    /// Reads a field name (`total_spent`; camelCase `totalSpent` is accepted too).
    pub fn parse(name: &str) -> Option<Self> {
        if let Some(key) = name.strip_prefix("metadata.") {
            let ok = crate::domain::metadata::check_key("", key).is_ok();
            return ok.then(|| Self::Metadata(key.to_owned()));
        }
        let snake: String = name.chars().flat_map(|c| if c.is_ascii_uppercase() { vec!['_', c.to_ascii_lowercase()] } else { vec![c] }).collect();
        Some(match snake.as_str() {
            "total_spent" | "lifetime_value" => Self::TotalSpent,
            "total_orders" => Self::TotalOrders,
            "average_order_value" => Self::AverageOrderValue,
            "last_order_at" => Self::LastOrderAt,
            "first_order_at" => Self::FirstOrderAt,
            "created_at" => Self::CreatedAt,
            "email" => Self::Email,
            "email_domain" => Self::EmailDomain,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "phone" => Self::Phone,
            "tags" | "tag" => Self::Tags,
            "country" | "address.country" => Self::Country,
            "state" | "address.state" => Self::State,
            "city" | "address.city" => Self::City,
            "postal_code" | "address.postal_code" => Self::PostalCode,
            "churn_risk" => Self::ChurnRisk,
            "rfm_recency_score" | "rfm.recency_score" | "recency_score" => Self::RfmRecency,
            "rfm_frequency_score" | "rfm.frequency_score" | "frequency_score" => Self::RfmFrequency,
            "rfm_monetary_score" | "rfm.monetary_score" | "monetary_score" => Self::RfmMonetary,
            "rfm_segment" | "rfm.segment" => Self::RfmSegment,
            "activity" => Self::Activity,
            "phone_country" | "enrichment.phone.country" => Self::PhoneCountry,
            "phone_line_type" | "enrichment.phone.line_type" => Self::PhoneLineType,
            "phone_valid" | "enrichment.phone.valid" => Self::PhoneValid,
            "free_email_provider" | "enrichment.email.free_email_provider" => Self::EmailFreeProvider,
            "disposable_email" | "enrichment.email.disposable" => Self::EmailDisposable,
            "role_account" | "enrichment.email.role_account" => Self::EmailRoleAccount,
            "company_domain" | "enrichment.email.company_domain" => Self::CompanyDomain,
            "location.country" | "enrichment.location.country" => Self::LocationCountry,
            "location.region" | "enrichment.location.region" => Self::LocationRegion,
            "time_zone" | "enrichment.location.time_zone" => Self::TimeZone,
            "preferred_channel" | "enrichment.behaviour.preferred_channel" => Self::PreferredChannel,
            "most_active_hour" | "enrichment.behaviour.most_active_hour" => Self::MostActiveHour,
            "most_active_weekday" | "enrichment.behaviour.most_active_weekday" => Self::MostActiveWeekday,
            "last_seen_at" | "enrichment.behaviour.last_seen_at" => Self::LastSeenAt,
            _ => return None,
        })
    }

    /// The canonical name, as stored and shown.
    pub fn name(&self) -> String {
        match self {
            Self::TotalSpent => "total_spent".into(),
            Self::TotalOrders => "total_orders".into(),
            Self::AverageOrderValue => "average_order_value".into(),
            Self::LastOrderAt => "last_order_at".into(),
            Self::FirstOrderAt => "first_order_at".into(),
            Self::CreatedAt => "created_at".into(),
            Self::Email => "email".into(),
            Self::EmailDomain => "email_domain".into(),
            Self::FirstName => "first_name".into(),
            Self::LastName => "last_name".into(),
            Self::Phone => "phone".into(),
            Self::Tags => "tags".into(),
            Self::Country => "address.country".into(),
            Self::State => "address.state".into(),
            Self::City => "address.city".into(),
            Self::PostalCode => "address.postal_code".into(),
            Self::ChurnRisk => "churn_risk".into(),
            Self::RfmRecency => "rfm_recency_score".into(),
            Self::RfmFrequency => "rfm_frequency_score".into(),
            Self::RfmMonetary => "rfm_monetary_score".into(),
            Self::RfmSegment => "rfm_segment".into(),
            Self::Activity => "activity".into(),
            Self::Metadata(key) => format!("metadata.{key}"),
            Self::PhoneCountry => "phone_country".into(),
            Self::PhoneLineType => "phone_line_type".into(),
            Self::PhoneValid => "phone_valid".into(),
            Self::EmailFreeProvider => "free_email_provider".into(),
            Self::EmailDisposable => "disposable_email".into(),
            Self::EmailRoleAccount => "role_account".into(),
            Self::CompanyDomain => "company_domain".into(),
            Self::LocationCountry => "location.country".into(),
            Self::LocationRegion => "location.region".into(),
            Self::TimeZone => "time_zone".into(),
            Self::PreferredChannel => "preferred_channel".into(),
            Self::MostActiveHour => "most_active_hour".into(),
            Self::MostActiveWeekday => "most_active_weekday".into(),
            Self::LastSeenAt => "last_seen_at".into(),
        }
    }

    /// The field's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::TotalSpent | Self::AverageOrderValue => Kind::Money,
            Self::TotalOrders | Self::RfmRecency | Self::RfmFrequency | Self::RfmMonetary | Self::MostActiveHour => Kind::Count,
            Self::PhoneValid | Self::EmailFreeProvider | Self::EmailDisposable | Self::EmailRoleAccount => Kind::Flag,
            Self::ChurnRisk => Kind::Ratio,
            Self::Activity => Kind::Activity,
            Self::LastOrderAt | Self::FirstOrderAt | Self::CreatedAt | Self::LastSeenAt => Kind::Time,
            Self::Tags => Kind::Tags,
            _ => Kind::Text,
        }
    }
}

impl Kind {
    /// Whether `op` applies to this kind.
    pub fn allows(self, op: Operator) -> bool {
        use Operator::*;
        match self {
            Kind::Money | Kind::Count | Kind::Ratio => matches!(op, Eq | Neq | Gt | Gte | Lt | Lte | In | NotIn | Between | Exists | NotExists),
            Kind::Time => matches!(op, Before | After | Between | Exists | NotExists),
            Kind::Text => matches!(op, Eq | Neq | In | NotIn | Contains | NotContains | StartsWith | EndsWith | Exists | NotExists),
            Kind::Tags => matches!(op, Contains | NotContains | In | NotIn | Exists | NotExists),
            Kind::Flag => matches!(op, Eq | Neq | Exists | NotExists),
            // exists: at least one matching event; not_exists: none; comparisons: their count.
            Kind::Activity => matches!(op, Exists | NotExists | Eq | Gt | Gte | Lt | Lte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_accept_camel_case() {
        for name in ["total_spent", "last_order_at", "email_domain", "address.country", "metadata.source", "tags", "disposable_email", "location.country", "last_seen_at"] {
            assert_eq!(Field::parse(name).unwrap().name(), name);
        }
        assert_eq!(Field::parse("totalSpent"), Some(Field::TotalSpent));
        assert_eq!(Field::parse("enrichment.email.disposable"), Some(Field::EmailDisposable));
        assert_eq!(Field::parse("freeEmailProvider"), Some(Field::EmailFreeProvider));
        assert_eq!(Field::parse("churn"), None);
        assert_eq!(Field::parse("metadata."), None);
        assert_eq!(Field::parse("metadata.a\u{0}"), None);
    }
}
