//! Believable people: names, emails, phones typed in national formats, addresses in 13
//! countries, tags and metadata. Deterministic for a given random generator.

use crate::domain::address::RawAddress;
use crate::domain::customer::RawNewCustomer;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use serde_json::json;

const FIRST_NAMES: &[&str] = &[
    "Sarah", "John", "Aisha", "Mateo", "Yuki", "Liam", "Olivia", "Noah", "Emma", "Lucas", "Sofia", "Hiro", "Chloe", "Ethan",
    "Priya", "Diego", "Hannah", "Felix", "Amara", "Leon", "Mia", "Omar", "Isabella", "Jonas", "Camille", "Ravi", "Elena",
    "Kenji", "Grace", "Mohammed", "Zoe", "Lukas", "Ana", "Samuel", "Ingrid", "Tomás", "Nadia", "Oscar", "Léa", "Daniel",
];
const LAST_NAMES: &[&str] = &[
    "Chen", "Rivera", "Okafor", "García", "Tanaka", "Smith", "Müller", "Dubois", "Rossi", "Kowalski", "Johansson", "Patel",
    "Silva", "Nguyen", "Kim", "O'Brien", "Schmidt", "Martin", "Fernández", "Sato", "Williams", "Brown", "Costa", "Novak",
    "Haddad", "Andersen", "Moreau", "Ivanova", "Santos", "Walker", "Fischer", "Lopez", "Bianchi", "Yamamoto", "Khan",
];
const DOMAINS: &[&str] = &[
    "gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "acmecorp.com", "northwind.io", "globex.com", "initech.co",
];
const TAGS: &[&str] = &["vip", "wholesale", "retail", "newsletter", "b2b", "returning", "gift-buyer", "early-adopter", "eu", "loyalty"];
const SOURCES: &[&str] = &["web", "trade_show", "instagram", "referral", "pos", "google_ads"];
const REPS: &[&str] = &["mike_d", "ana_r", "kenji_t", "lea_m"];

/// A city with a plausible street, postal code and a phone typed in that country's format.
struct Place {
    city: &'static str,
    state: Option<&'static str>,
    postal: &'static str,
    country: &'static str,
    street: &'static str,
    phone: fn(&mut StdRng) -> String,
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
}

const PLACES: &[Place] = &[
    Place { city: "Springfield", state: Some("IL"), postal: "62704", country: "US", street: "Evergreen Terrace", phone: |r| format!("(217) {}-{}", 200 + r.random_range(0..700), digits(r, 4)) },
    Place { city: "San Francisco", state: Some("CA"), postal: "94103", country: "US", street: "Valencia St", phone: |r| format!("415.{}.{}", 200 + r.random_range(0..700), digits(r, 4)) },
    Place { city: "Brooklyn", state: Some("NY"), postal: "11201", country: "US", street: "Atlantic Ave", phone: |r| format!("+1 718 {} {}", 200 + r.random_range(0..700), digits(r, 4)) },
    Place { city: "Toronto", state: Some("ON"), postal: "M5V 2T6", country: "CA", street: "Queen St W", phone: |r| format!("(416) {}-{}", 200 + r.random_range(0..700), digits(r, 4)) },
    Place { city: "London", state: None, postal: "SW1A 1AA", country: "GB", street: "Baker Street", phone: |r| format!("020 7946 {}", digits(r, 4)) },
    Place { city: "Manchester", state: None, postal: "M1 1AE", country: "GB", street: "Deansgate", phone: |r| format!("07700 900{}", digits(r, 3)) },
    Place { city: "Berlin", state: Some("BE"), postal: "10115", country: "DE", street: "Torstraße", phone: |r| format!("030 {}", digits(r, 8)) },
    Place { city: "Paris", state: None, postal: "75011", country: "FR", street: "Rue Oberkampf", phone: |r| format!("01 {} {} {} {}", digits(r, 2), digits(r, 2), digits(r, 2), digits(r, 2)) },
    Place { city: "Madrid", state: Some("MD"), postal: "28004", country: "ES", street: "Calle de Fuencarral", phone: |r| format!("91 {} {} {}", digits(r, 3), digits(r, 2), digits(r, 2)) },
    Place { city: "Tokyo", state: Some("Tokyo"), postal: "150-0001", country: "JP", street: "Jingumae", phone: |r| format!("03-{}-{}", digits(r, 4), digits(r, 4)) },
    Place { city: "Sydney", state: Some("NSW"), postal: "2000", country: "AU", street: "George St", phone: |r| format!("(02) 9{} {}", digits(r, 3), digits(r, 4)) },
    Place { city: "São Paulo", state: Some("SP"), postal: "01310-100", country: "BR", street: "Avenida Paulista", phone: |r| format!("(11) 9{}-{}", digits(r, 4), digits(r, 4)) },
    Place { city: "Mumbai", state: Some("MH"), postal: "400001", country: "IN", street: "Marine Drive", phone: |r| format!("98{} {}", digits(r, 3), digits(r, 5)) },
];

/// The `i`-th person (the index keeps emails unique).
pub fn raw_customer(rng: &mut StdRng, i: usize) -> RawNewCustomer {
    let first = *FIRST_NAMES.choose(rng).expect("names");
    let last = *LAST_NAMES.choose(rng).expect("names");
    let place = PLACES.choose(rng).expect("places");
    let local: String = format!("{}.{}", first, last).to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
    let email = format!("{local}{i}@{}", DOMAINS.choose(rng).expect("domains"));
    let tag_count = rng.random_range(0..4);
    let mut tags: Vec<String> = TAGS.choose_multiple(rng, tag_count).map(|t| t.to_string()).collect();
    tags.shuffle(rng);
    let mut metadata = json!({ "source": SOURCES.choose(rng).expect("sources") });
    if rng.random_bool(0.3) {
        metadata["rep"] = json!(REPS.choose(rng).expect("reps"));
    }
    if rng.random_bool(0.2) {
        metadata["loyalty_id"] = json!(format!("LY-{}", digits(rng, 6)));
    }
    let address = RawAddress {
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        line1: Some(format!("{} {}", rng.random_range(1..400), place.street)),
        city: Some(place.city.into()),
        state: place.state.map(Into::into),
        postal_code: Some(place.postal.into()),
        country: Some(place.country.into()),
        ..Default::default()
    };
    RawNewCustomer {
        email,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        phone: rng.random_bool(0.8).then(|| (place.phone)(rng)),
        tags,
        metadata: Some(metadata),
        addresses: vec![address],
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::NewCustomer;
    use rand::SeedableRng;

    #[test]
    fn every_person_is_valid_and_most_phones_normalise() {
        let mut rng = StdRng::seed_from_u64(2026);
        let mut normalised = 0;
        for i in 0..300 {
            let new = NewCustomer::parse(&raw_customer(&mut rng, i)).unwrap_or_else(|e| panic!("{i}: {e:?}"));
            normalised += usize::from(new.profile.phone.is_some_and(|p| p.starts_with('+') && p[1..].chars().all(|c| c.is_ascii_digit())));
        }
        assert!(normalised > 150, "only {normalised} phones normalised");
    }
}
