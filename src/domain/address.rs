//! Postal addresses: trimmed text fields, an ISO 3166-1 alpha-2 country, a phone normalised with
//! that country, and one default per customer.

use super::phone::Phone;
use super::text::optional_text;
use super::InputError;

/// The most addresses one customer may keep.
pub const MAX_ADDRESSES: usize = 20;

/// An address as the caller typed it.
#[derive(Debug, Clone, Default)]
pub struct RawAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub is_default: bool,
}

/// A validated address, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub phone: Option<String>,
    pub is_default: bool,
}

impl Address {
    /// Validates one address given at `field`.
    pub fn parse(field: &str, raw: &RawAddress) -> Result<Self, InputError> {
        let text = |name: &str, value: &Option<String>| optional_text(&format!("{field}.{name}"), value.as_deref());
        let country = text("country", &raw.country)?.map(|c| c.to_ascii_uppercase());
        if let Some(c) = &country
            && (c.len() != 2 || c.parse::<phonenumber::country::Id>().is_err())
        {
            return Err(InputError::new(&format!("{field}.country"), "must be an ISO 3166-1 alpha-2 country code, e.g. US"));
        }
        let phone = match raw.phone.as_deref() {
            Some(p) => Phone::parse(&format!("{field}.phone"), p, country.as_deref())?.map(Phone::into_string),
            None => None,
        };
        let address = Self {
            first_name: text("firstName", &raw.first_name)?,
            last_name: text("lastName", &raw.last_name)?,
            company: text("company", &raw.company)?,
            line1: text("line1", &raw.line1)?,
            line2: text("line2", &raw.line2)?,
            city: text("city", &raw.city)?,
            state: text("state", &raw.state)?,
            postal_code: text("postalCode", &raw.postal_code)?,
            country,
            phone,
            is_default: raw.is_default,
        };
        if address.line1.is_none() && address.city.is_none() && address.postal_code.is_none() && address.country.is_none() {
            return Err(InputError::new(field, "an address needs at least one of line1, city, postalCode or country"));
        }
        Ok(address)
    }

    /// Validates a customer's address list: at most [`MAX_ADDRESSES`], at most one marked default;
    /// when none is marked, the first becomes the default.
    pub fn parse_list(field: &str, raw: &[RawAddress]) -> Result<Vec<Self>, InputError> {
        if raw.len() > MAX_ADDRESSES {
            return Err(InputError::new(field, format!("a customer may have at most {MAX_ADDRESSES} addresses")));
        }
        let mut list = raw
            .iter()
            .enumerate()
            .map(|(i, a)| Self::parse(&format!("{field}.{i}"), a))
            .collect::<Result<Vec<_>, _>>()?;
        match list.iter().filter(|a| a.is_default).count() {
            0 => {
                if let Some(first) = list.first_mut() {
                    first.is_default = true;
                }
            }
            1 => {}
            _ => return Err(InputError::new(field, "at most one address may be the default")),
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(country: &str) -> RawAddress {
        RawAddress { line1: Some("742 Evergreen Terrace".into()), country: Some(country.into()), ..Default::default() }
    }

    #[test]
    fn normalises_country_and_phone() {
        let a = Address::parse("a", &RawAddress { phone: Some("(415) 555-2671".into()), ..raw("us") }).unwrap();
        assert_eq!(a.country.as_deref(), Some("US"));
        assert_eq!(a.phone.as_deref(), Some("+14155552671"));
    }

    #[test]
    fn refuses_unknown_countries_and_empty_addresses() {
        assert_eq!(Address::parse("a", &raw("USA")).unwrap_err().path, ["a", "country"]);
        assert_eq!(Address::parse("a", &raw("ZZ")).unwrap_err().path, ["a", "country"]);
        assert!(Address::parse("a", &RawAddress { company: Some("Acme".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn first_address_is_default_unless_one_is_marked() {
        let list = Address::parse_list("addresses", &[raw("US"), raw("FR")]).unwrap();
        assert!(list[0].is_default && !list[1].is_default);
        let marked = Address::parse_list("addresses", &[raw("US"), RawAddress { is_default: true, ..raw("FR") }]).unwrap();
        assert!(!marked[0].is_default && marked[1].is_default);
        let two = [RawAddress { is_default: true, ..raw("US") }, RawAddress { is_default: true, ..raw("FR") }];
        assert!(Address::parse_list("addresses", &two).is_err());
    }
}
