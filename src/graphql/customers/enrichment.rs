//! `Customer.enrichment`: what the store learns about a customer without asking.

use crate::db::enrichment::EnrichmentRow;
use crate::domain::activity::ActivityKind;
use crate::domain::enrichment::{self, LineType};
use crate::graphql::activity::types::ActivityType;
use crate::graphql::scalars::Timestamp;
use async_graphql::{Enum, Object, SimpleObject};
use chrono::Utc;
use std::sync::Arc;

/// Facts derived from the customer's profile and timeline — offline, deterministic, and kept
/// current: profile facts are written with every profile change, behaviour facts shortly after
/// new events (by a background job).
pub struct CustomerEnrichment(pub Arc<EnrichmentRow>);

/// Facts derived from the customer's profile and timeline — offline, deterministic, and kept
/// current: profile facts are written with every profile change, behaviour facts shortly after
/// new events (by a background job).
#[Object]
impl CustomerEnrichment {
    /// What the phone number tells (null when the customer has no phone).
    async fn phone(&self) -> Option<PhoneEnrichment> {
        let row = &self.0;
        row.phone_valid.map(|valid| PhoneEnrichment {
            e164: row.phone_e164.clone(),
            country: row.phone_country.clone(),
            line_type: row.phone_line_type.as_deref().and_then(LineType::from_stored).map(Into::into),
            valid,
        })
    }
    /// What the email address tells.
    async fn email(&self) -> EmailEnrichment {
        let row = &self.0;
        EmailEnrichment {
            normalized: row.email_normalized.clone(),
            domain: row.email_domain.clone(),
            free_email_provider: row.free_email_provider,
            disposable: row.disposable_email,
            role_account: row.role_account,
            company_domain: row.company_domain.clone(),
        }
    }
    /// Where the customer is.
    async fn location(&self) -> LocationEnrichment {
        let row = &self.0;
        LocationEnrichment {
            country: row.country.clone(),
            region: row.region.clone(),
            time_zone: row.time_zone.clone(),
            local_time: row.time_zone.as_deref().and_then(|zone| enrichment::local_time(zone, Utc::now())),
        }
    }
    /// How the customer behaves, from their timeline.
    async fn behaviour(&self) -> BehaviourEnrichment {
        let row = &self.0;
        BehaviourEnrichment {
            preferred_channel: row.preferred_channel.as_deref().and_then(ActivityKind::from_stored).map(Into::into),
            most_active_hour: row.most_active_hour,
            most_active_weekday: row.most_active_weekday.and_then(Weekday::from_iso),
            time_zone: row.time_zone.clone().unwrap_or_else(|| "UTC".into()),
            last_seen_at: row.last_seen_at.map(Timestamp),
            pending: row.behaviour_pending(),
        }
    }
    /// When these facts last changed.
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
}

/// What a phone number tells, per libphonenumber's metadata.
#[derive(SimpleObject)]
pub struct PhoneEnrichment {
    /// The number in E.164 (`+14155552671`), when it is valid.
    pub e164: Option<String>,
    /// The ISO 3166-1 alpha-2 country the number belongs to, when it is valid.
    pub country: Option<String>,
    /// What kind of line it is, when it is valid.
    pub line_type: Option<PhoneLineType>,
    /// Whether it is a valid number (national formats read in the default address's country).
    pub valid: bool,
}

/// What kind of line a phone number is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneLineType {
    /// A mobile phone.
    Mobile,
    /// A landline.
    FixedLine,
    /// Either: the numbering plan cannot tell (e.g. the US and Canada).
    FixedLineOrMobile,
    /// A freephone number.
    TollFree,
    /// A premium-rate number.
    PremiumRate,
    /// A shared-cost number.
    SharedCost,
    /// A personal number routed to another line.
    PersonalNumber,
    /// A voice-over-IP number.
    Voip,
    /// A pager.
    Pager,
    /// A universal access (company) number.
    Uan,
    /// A voicemail access number.
    Voicemail,
    /// Valid, but of no known type.
    Unknown,
}

impl From<LineType> for PhoneLineType {
    fn from(t: LineType) -> Self {
        match t {
            LineType::Mobile => Self::Mobile,
            LineType::FixedLine => Self::FixedLine,
            LineType::FixedLineOrMobile => Self::FixedLineOrMobile,
            LineType::TollFree => Self::TollFree,
            LineType::PremiumRate => Self::PremiumRate,
            LineType::SharedCost => Self::SharedCost,
            LineType::PersonalNumber => Self::PersonalNumber,
            LineType::Voip => Self::Voip,
            LineType::Pager => Self::Pager,
            LineType::Uan => Self::Uan,
            LineType::Voicemail => Self::Voicemail,
            LineType::Unknown => Self::Unknown,
        }
    }
}

/// What an email address tells.
#[derive(SimpleObject)]
pub struct EmailEnrichment {
    /// The mailbox it reaches: lower-cased, without a `+tag`, and for Gmail without dots, at
    /// `gmail.com` — two addresses with the same value reach the same person.
    pub normalized: String,
    /// The domain, lower-cased.
    pub domain: String,
    /// Whether the domain is a consumer provider anyone can sign up to (gmail.com, outlook.com,
    /// yahoo.com, icloud.com, ...; the list is `data/free_email_providers.txt`).
    pub free_email_provider: bool,
    /// Whether the domain is a throwaway-address service (the `mailchecker` list).
    pub disposable: bool,
    /// Whether the mailbox is a role or shared one (info@, sales@, support@, ...).
    pub role_account: bool,
    /// The domain, when it is neither free nor disposable: most likely the customer's company.
    pub company_domain: Option<String>,
}

/// Where a customer is.
#[derive(SimpleObject)]
pub struct LocationEnrichment {
    /// ISO 3166-1 alpha-2 country: the default address's, else the phone number's.
    pub country: Option<String>,
    /// The default address's state or region (when the country came from the address).
    pub region: Option<String>,
    /// The IANA time zone, where the country — or for countries spanning several zones (US,
    /// Canada, Australia), the region — leaves no doubt.
    pub time_zone: Option<String>,
    /// The time now where the customer is (RFC 3339 with the zone's current offset).
    pub local_time: Option<String>,
}

/// How a customer behaves, from their timeline.
#[derive(SimpleObject)]
pub struct BehaviourEnrichment {
    /// The activity type with the most events (ties: the most recent).
    pub preferred_channel: Option<ActivityType>,
    /// The hour (0–23, in `timeZone`) with the most events (ties: the earliest).
    pub most_active_hour: Option<i32>,
    /// The weekday (in `timeZone`) with the most events (ties: the earliest in the week).
    pub most_active_weekday: Option<Weekday>,
    /// The zone the hour and weekday are counted in: the customer's, else UTC.
    pub time_zone: String,
    /// The latest event of any type.
    pub last_seen_at: Option<Timestamp>,
    /// Whether new events (or a new time zone) are still being taken into account.
    pub pending: bool,
}

/// A day of the week.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// The ISO 8601 day (1 = Monday … 7 = Sunday).
    fn from_iso(day: i32) -> Option<Self> {
        use Weekday::*;
        [Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday].get(usize::try_from(day).ok()?.checked_sub(1)?).copied()
    }
}
