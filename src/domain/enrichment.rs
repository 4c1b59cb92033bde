//! Enrichment: facts derived from what the store already holds about a customer — offline and
//! deterministic. The profile facts (phone, email, location) follow from the profile and the
//! default address; the behaviour facts are aggregates of the timeline (computed in SQL,
//! `db::enrichment`). Lists shipped in `data/`: free email providers and role mailboxes (ours),
//! the IANA tz database's `zone.tab`, and the regions of multi-zone countries that keep one zone.
//! Disposable domains come from the `mailchecker` crate's maintained list.

use chrono::{DateTime, Offset, Utc};
use phonenumber::{Mode, PhoneNumber, Type};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

/// What libphonenumber's metadata says a number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineType {
    Mobile,
    FixedLine,
    /// Where the numbering plan cannot tell them apart (e.g. the US and Canada).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    PersonalNumber,
    Voip,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

impl LineType {
    /// Every line type.
    pub const ALL: [LineType; 12] = [
        Self::Mobile,
        Self::FixedLine,
        Self::FixedLineOrMobile,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::PersonalNumber,
        Self::Voip,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Unknown,
    ];

    /// The stored form (`mobile`, `fixed_line`, ...), also what segment rules compare.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::FixedLine => "fixed_line",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::PersonalNumber => "personal_number",
            Self::Voip => "voip",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Unknown => "unknown",
        }
    }

    /// The type stored as `text`.
    pub fn from_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    fn of(number: &PhoneNumber) -> Self {
        match number.number_type(&phonenumber::metadata::DATABASE) {
            Type::Mobile => Self::Mobile,
            Type::FixedLine => Self::FixedLine,
            Type::FixedLineOrMobile => Self::FixedLineOrMobile,
            Type::TollFree => Self::TollFree,
            Type::PremiumRate => Self::PremiumRate,
            Type::SharedCost => Self::SharedCost,
            Type::PersonalNumber => Self::PersonalNumber,
            Type::Voip => Self::Voip,
            Type::Pager => Self::Pager,
            Type::Uan => Self::Uan,
            Type::Voicemail => Self::Voicemail,
            _ => Self::Unknown,
        }
    }
}

/// What a phone number tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneFacts {
    /// E.164 when the number is valid.
    pub e164: Option<String>,
    /// ISO 3166-1 alpha-2 country the number belongs to (valid numbers only).
    pub country: Option<String>,
    pub line_type: Option<LineType>,
    /// Whether libphonenumber's metadata knows it as a valid number.
    pub valid: bool,
}

/// Reads `phone` (national formats in `region`, the default address's country).
pub fn phone_facts(phone: &str, region: Option<&str>) -> PhoneFacts {
    let region = region.and_then(|r| r.parse::<phonenumber::country::Id>().ok());
    super::phone::enlarge_regex_cache();
    let number = phonenumber::parse(region, phone).ok().filter(PhoneNumber::is_valid);
    match number {
        Some(number) => PhoneFacts {
            e164: Some(number.format().mode(Mode::E164).to_string()),
            country: number.country().id().map(|id| id.as_ref().to_owned()),
            line_type: Some(LineType::of(&number)),
            valid: true,
        },
        None => PhoneFacts { e164: None, country: None, line_type: None, valid: false },
    }
}

fn list(text: &'static str) -> HashSet<&'static str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
}

static FREE_PROVIDERS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| list(include_str!("../../data/free_email_providers.txt")));
static ROLE_ACCOUNTS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| list(include_str!("../../data/role_accounts.txt")));

/// What an email address tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailFacts {
    /// Lower-cased, without a `+tag`; for Gmail also without dots, at `gmail.com` — the mailbox
    /// the address reaches.
    pub normalized: String,
    pub domain: String,
    /// At a consumer provider anyone can sign up to (gmail.com, outlook.com, ...).
    pub free_provider: bool,
    /// At a throwaway-address service.
    pub disposable: bool,
    /// A role or shared mailbox (info@, sales@, ...), not a person.
    pub role_account: bool,
    /// The domain, when it is neither free nor disposable: the customer's company.
    pub company_domain: Option<String>,
}

/// Reads a (valid) email address. The domain is kept in its ASCII form (`bücher.de` becomes
/// `xn--bcher-kva.de`), so one company has one domain however it was typed.
pub fn email_facts(email: &str) -> EmailFacts {
    let lower = email.trim().to_lowercase();
    let (local, typed_domain) = lower.rsplit_once('@').unwrap_or((lower.as_str(), ""));
    let ascii = match url::Host::parse(typed_domain) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => typed_domain.to_owned(),
    };
    let domain = ascii.as_str();
    // subaddressing (`ann+news@`), which every major provider supports
    let base = match local.split_once('+') {
        Some((base, _)) if !base.is_empty() => base,
        _ => local,
    };
    let (mailbox, domain_of_mailbox) = match domain {
        "gmail.com" | "googlemail.com" => (base.replace('.', ""), "gmail.com"),
        _ => (base.to_owned(), domain),
    };
    let free_provider = FREE_PROVIDERS.contains(domain);
    // the domain alone decides (mailchecker also refuses local parts it finds unusual)
    let disposable = !free_provider && !domain.is_empty() && !mailchecker::is_valid(&format!("x@{domain}"));
    EmailFacts {
        normalized: format!("{mailbox}@{domain_of_mailbox}"),
        domain: domain.to_owned(),
        free_provider,
        disposable,
        role_account: ROLE_ACCOUNTS.contains(base),
        company_domain: (!free_provider && !disposable && !domain.is_empty()).then(|| domain.to_owned()),
    }
}

/// The IANA zones of each country (`zone.tab`).
static COUNTRY_ZONES: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut zones: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in include_str!("../../data/zone.tab").lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split('\t');
        if let (Some(country), Some(_), Some(zone)) = (fields.next(), fields.next(), fields.next()) {
            zones.entry(country).or_default().push(zone);
        }
    }
    zones
});

/// (country, lower-cased region code or name) → zone, for regions that keep one zone.
static REGION_ZONES: LazyLock<HashMap<(&'static str, String), &'static str>> = LazyLock::new(|| {
    let mut zones = HashMap::new();
    for line in include_str!("../../data/region_time_zones.tsv").lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [country, code, name, zone] = fields[..] {
            zones.insert((country, code.to_lowercase()), zone);
            zones.insert((country, name.to_lowercase()), zone);
        }
    }
    zones
});

/// The zone a whole country keeps: its only zone, or — when all its zones keep the same clock
/// (the same UTC offsets in January and July, e.g. Europe/Berlin and Europe/Busingen) — the first
/// listed.
static COUNTRY_ZONE: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let instants = ["2026-01-15T12:00:00Z", "2026-07-15T12:00:00Z"].map(|t| t.parse::<DateTime<Utc>>().expect("a valid instant"));
    let clock = |zone: &str| -> Option<Vec<i32>> {
        let tz: chrono_tz::Tz = zone.parse().ok()?;
        Some(instants.iter().map(|t| t.with_timezone(&tz).offset().fix().local_minus_utc()).collect())
    };
    COUNTRY_ZONES
        .iter()
        .filter_map(|(country, zones)| {
            let first = clock(zones[0])?;
            zones.iter().all(|z| clock(z).as_ref() == Some(&first)).then_some((*country, zones[0]))
        })
        .collect()
});

/// The IANA zone of `country` (in `region`, for countries whose zones differ), if it is
/// unambiguous. The region may be given as its code (`CA`, `US-CA`) or its English name.
pub fn time_zone(country: &str, region: Option<&str>) -> Option<&'static str> {
    if let Some(zone) = COUNTRY_ZONE.get(country) {
        return Some(zone);
    }
    let region = region?.trim().to_lowercase();
    let prefix = format!("{}-", country.to_lowercase());
    let region = region.strip_prefix(&prefix).unwrap_or(&region);
    REGION_ZONES.get(&(country, region.to_owned())).copied()
}

/// Where a customer is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationFacts {
    /// From the default address, else from the phone number.
    pub country: Option<String>,
    /// The default address's state or region (when the country came from it).
    pub region: Option<String>,
    /// The IANA zone, where the country (and region) leave no doubt.
    pub time_zone: Option<String>,
}

/// Everything the profile tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileFacts {
    pub phone: Option<PhoneFacts>,
    pub email: EmailFacts,
    pub location: LocationFacts,
}

/// The default address's country and region.
#[derive(Debug, Clone, Default)]
pub struct Whereabouts<'a> {
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// Derives the profile facts.
pub fn profile(email: &str, phone: Option<&str>, address: Whereabouts<'_>) -> ProfileFacts {
    let address_country = address.country.map(str::trim).filter(|c| !c.is_empty()).map(str::to_uppercase);
    let phone = phone.map(|p| phone_facts(p, address_country.as_deref()));
    let (country, region) = match (&address_country, phone.as_ref().and_then(|p| p.country.clone())) {
        (Some(country), _) => (Some(country.clone()), address.region.map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned)),
        (None, from_phone) => (from_phone, None),
    };
    let time_zone = country.as_deref().and_then(|c| time_zone(c, region.as_deref())).map(str::to_owned);
    ProfileFacts { phone, email: email_facts(email), location: LocationFacts { country, region, time_zone } }
}

/// The time now in `zone` (an IANA name), as RFC 3339 with its offset.
pub fn local_time(zone: &str, now: DateTime<Utc>) -> Option<String> {
    let tz: chrono_tz::Tz = zone.parse().ok()?;
    Some(now.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_typed_any_way_read_the_same() {
        for typed in ["+1 415 555 2671", "+1.415.555.2671", "(415) 555-2671", "415 555 2671", "1-415-555-2671"] {
            let facts = phone_facts(typed, Some("US"));
            assert_eq!((facts.e164.as_deref(), facts.country.as_deref(), facts.valid), (Some("+14155552671"), Some("US"), true), "{typed}");
            assert_eq!(facts.line_type, Some(LineType::FixedLineOrMobile));
        }
        let uk_mobile = phone_facts("07400 123456", Some("GB"));
        assert_eq!((uk_mobile.e164.as_deref(), uk_mobile.line_type), (Some("+447400123456"), Some(LineType::Mobile)));
        let uk_landline = phone_facts("020 7946 0018", Some("GB"));
        assert_eq!((uk_landline.country.as_deref(), uk_landline.line_type), (Some("GB"), Some(LineType::FixedLine)));
        let free = phone_facts("+1 800 275 2273", None);
        assert_eq!(free.line_type, Some(LineType::TollFree));
        // a national number without its country cannot be placed
        let unplaced = phone_facts("415 555 2671", None);
        assert_eq!(unplaced, PhoneFacts { e164: None, country: None, line_type: None, valid: false });
        assert!(!phone_facts("+1 555 0100", None).valid);
    }

    #[test]
    fn emails_are_normalised_and_classified() {
        let gmail = email_facts("  John.Smith+Newsletter@GoogleMail.com ");
        assert_eq!(gmail.normalized, "johnsmith@gmail.com");
        assert_eq!(gmail.domain, "googlemail.com");
        assert!(gmail.free_provider && !gmail.disposable && !gmail.role_account);
        assert_eq!(gmail.company_domain, None);

        let work = email_facts("Ada.Lovelace+crm@Acme.io");
        assert_eq!((work.normalized.as_str(), work.company_domain.as_deref()), ("ada.lovelace@acme.io", Some("acme.io")));
        assert!(!work.free_provider && !work.disposable);

        let role = email_facts("Sales+eu@acme.io");
        assert!(role.role_account);
        assert_eq!(role.company_domain.as_deref(), Some("acme.io"));

        let throwaway = email_facts("x7@mailinator.com");
        assert!(throwaway.disposable && !throwaway.free_provider);
        assert_eq!(throwaway.company_domain, None);

        // international addresses are ordinary addresses
        let idn = email_facts("José@Bücher.de");
        assert!(!idn.disposable, "{idn:?}");
        assert_eq!((idn.domain.as_str(), idn.company_domain.as_deref()), ("xn--bcher-kva.de", Some("xn--bcher-kva.de")));
        assert_eq!(idn.normalized, "josé@xn--bcher-kva.de");
        assert!(!email_facts("\"john doe\"@acme.com").disposable);
        // a local part that starts with + is not a tag
        assert_eq!(email_facts("+1@acme.com").normalized, "+1@acme.com");
    }

    #[test]
    fn time_zones_only_where_unambiguous() {
        assert_eq!(time_zone("FR", None), Some("Europe/Paris"));
        assert_eq!(time_zone("JP", Some("anything")), Some("Asia/Tokyo"));
        assert_eq!(time_zone("US", None), None, "the US spans several zones");
        assert_eq!(time_zone("US", Some("ca")), Some("America/Los_Angeles"));
        assert_eq!(time_zone("US", Some(" New York ")), Some("America/New_York"));
        assert_eq!(time_zone("US", Some("TX")), None, "Texas is split");
        assert_eq!(time_zone("AU", Some("QLD")), Some("Australia/Brisbane"));
        assert_eq!(time_zone("US", Some("US-WA")), Some("America/Los_Angeles"));
        assert_eq!(time_zone("ZZ", None), None);
        // zones keeping the same clock count as one
        assert_eq!(time_zone("DE", None), Some("Europe/Berlin"));
        assert_eq!(time_zone("AR", None), Some("America/Argentina/Buenos_Aires"));
        // zones that differ do not, and neither do regions with exceptions
        assert_eq!(time_zone("ES", None), None, "the Canaries keep another clock");
        assert_eq!((time_zone("ES", Some("MD")), time_zone("ES", Some("Canary Islands"))), (Some("Europe/Madrid"), Some("Atlantic/Canary")));
        assert_eq!(time_zone("AU", Some("NSW")), None, "Broken Hill and Lord Howe differ");
        assert_eq!(time_zone("CA", Some("BC")), None, "parts of British Columbia keep mountain time");
    }

    #[test]
    fn location_comes_from_the_address_else_the_phone() {
        let from_address = profile("a@b.co", Some("+33 1 42 68 53 00"), Whereabouts { country: Some("us"), region: Some("WA") });
        assert_eq!(from_address.location, LocationFacts { country: Some("US".into()), region: Some("WA".into()), time_zone: Some("America/Los_Angeles".into()) });
        let from_phone = profile("a@b.co", Some("+33 1 42 68 53 00"), Whereabouts::default());
        assert_eq!(from_phone.location, LocationFacts { country: Some("FR".into()), region: None, time_zone: Some("Europe/Paris".into()) });
        let nowhere = profile("a@b.co", None, Whereabouts::default());
        assert_eq!(nowhere.location, LocationFacts { country: None, region: None, time_zone: None });
        assert_eq!(nowhere.phone, None);
    }

    #[test]
    fn local_time_follows_the_zone_and_its_daylight_saving() {
        let summer = DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z").unwrap().with_timezone(&Utc);
        let winter = DateTime::parse_from_rfc3339("2026-01-15T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(local_time("America/New_York", summer).as_deref(), Some("2026-07-01T08:00:00-04:00"));
        assert_eq!(local_time("America/New_York", winter).as_deref(), Some("2026-01-15T07:00:00-05:00"));
        assert_eq!(local_time("Mars/Olympus", summer), None);
    }
}
