//! A customer's editable profile, and the parsing of create and update inputs into it.

use super::address::{Address, RawAddress};
use super::email::Email;
use super::metadata::{Metadata, MetadataPatch};
use super::phone::Phone;
use super::tags::Tags;
use super::text::optional_text;
use super::InputError;
use serde_json::Value;

/// The fields of a customer that callers edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub tags: Tags,
    pub metadata: Metadata,
}

/// The create input as typed.
#[derive(Debug, Clone, Default)]
pub struct RawNewCustomer {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub tags: Vec<String>,
    pub metadata: Option<Value>,
    pub addresses: Vec<RawAddress>,
}

/// A validated new customer.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub profile: Profile,
    pub addresses: Vec<Address>,
}

impl NewCustomer {
    /// Validates a create input; error paths are relative to the input object.
    pub fn parse(raw: &RawNewCustomer) -> Result<Self, InputError> {
        let addresses = Address::parse_list("addresses", &raw.addresses)?;
        let region = default_country(&addresses);
        let mut metadata = Metadata::default();
        if let Some(value) = &raw.metadata {
            metadata.apply("metadata", MetadataPatch::parse("metadata", value)?)?;
        }
        let profile = Profile {
            email: Email::parse("email", &raw.email)?,
            first_name: optional_text("firstName", raw.first_name.as_deref())?,
            last_name: optional_text("lastName", raw.last_name.as_deref())?,
            phone: parse_phone(raw.phone.as_deref(), region)?,
            tags: Tags::parse("tags", &raw.tags)?,
            metadata,
        };
        Ok(Self { profile, addresses })
    }
}

/// What an update does to one optional field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<T> {
    /// Leave it as it is (the field was absent).
    Keep,
    /// Remove the value (the field was null).
    Clear,
    /// Set a new value.
    Set(T),
}

/// The update input as typed.
#[derive(Debug, Clone)]
pub struct RawCustomerUpdate {
    pub email: Change<String>,
    pub first_name: Change<String>,
    pub last_name: Change<String>,
    pub phone: Change<String>,
    pub tags: Option<Vec<String>>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    pub metadata: Option<Value>,
    pub addresses: Option<Vec<RawAddress>>,
}

/// A validated partial update.
#[derive(Debug, Clone)]
pub struct CustomerUpdate {
    email: Option<Email>,
    first_name: Change<String>,
    last_name: Change<String>,
    phone: Change<String>,
    tags: Option<Tags>,
    add_tags: Vec<String>,
    remove_tags: Vec<String>,
    metadata: Option<MetadataPatch>,
    /// The new address list, replacing the old one, when given.
    pub addresses: Option<Vec<Address>>,
}

impl CustomerUpdate {
    /// Validates an update input; error paths are relative to the input object.
    pub fn parse(raw: &RawCustomerUpdate) -> Result<Self, InputError> {
        let email = match &raw.email {
            Change::Keep => None,
            Change::Clear => return Err(InputError::new("email", "cannot be removed")),
            Change::Set(e) => Some(Email::parse("email", e)?),
        };
        if raw.tags.is_some() && !(raw.add_tags.is_empty() && raw.remove_tags.is_empty()) {
            return Err(InputError::new("tags", "give either tags (replace) or addTags/removeTags, not both"));
        }
        let text = |field: &str, change: &Change<String>| -> Result<Change<String>, InputError> {
            Ok(match change {
                Change::Set(v) => optional_text(field, Some(v))?.map_or(Change::Clear, Change::Set),
                Change::Clear => Change::Clear,
                Change::Keep => Change::Keep,
            })
        };
        let tags = raw.tags.as_deref().map(|t| Tags::parse("tags", t)).transpose()?;
        // Validate additions on their own so errors point at addTags.
        Tags::parse("addTags", &raw.add_tags)?;
        Ok(Self {
            email,
            first_name: text("firstName", &raw.first_name)?,
            last_name: text("lastName", &raw.last_name)?,
            phone: raw.phone.clone(),
            tags,
            add_tags: raw.add_tags.clone(),
            remove_tags: raw.remove_tags.clone(),
            metadata: raw.metadata.as_ref().map(|m| MetadataPatch::parse("metadata", m)).transpose()?,
            addresses: raw.addresses.as_deref().map(|a| Address::parse_list("addresses", a)).transpose()?,
        })
    }

    /// The country whose national phone format the update's phone should be read in, if the
    /// update itself says (its new default address).
    pub fn region(&self) -> Option<&str> {
        self.addresses.as_deref().and_then(default_country)
    }

    /// Applies the update to `current`; `region` reads a national-format phone number.
    pub fn apply(&self, mut current: Profile, region: Option<&str>) -> Result<Profile, InputError> {
        if let Some(email) = &self.email {
            current.email = email.clone();
        }
        apply_change(&mut current.first_name, &self.first_name);
        apply_change(&mut current.last_name, &self.last_name);
        match &self.phone {
            Change::Keep => {}
            Change::Clear => current.phone = None,
            Change::Set(p) => current.phone = parse_phone(Some(p), region)?,
        }
        if let Some(tags) = &self.tags {
            current.tags = tags.clone();
        }
        current.tags.remove(&self.remove_tags);
        current.tags.add("addTags", &self.add_tags)?;
        if let Some(patch) = &self.metadata {
            current.metadata.apply("metadata", patch.clone())?;
        }
        Ok(current)
    }

    /// Whether the update changes anything at all.
    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && [&self.first_name, &self.last_name, &self.phone].iter().all(|c| **c == Change::Keep)
            && self.tags.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.metadata.is_none()
            && self.addresses.is_none()
    }
}

fn apply_change(field: &mut Option<String>, change: &Change<String>) {
    match change {
        Change::Keep => {}
        Change::Clear => *field = None,
        Change::Set(v) => *field = Some(v.clone()),
    }
}

fn parse_phone(text: Option<&str>, region: Option<&str>) -> Result<Option<String>, InputError> {
    Ok(match text {
        Some(t) => Phone::parse("phone", t, region)?.map(Phone::into_string),
        None => None,
    })
}

fn default_country(addresses: &[Address]) -> Option<&str> {
    addresses.iter().find(|a| a.is_default).and_then(|a| a.country.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn new_customer() -> RawNewCustomer {
        RawNewCustomer { email: "sarah.chen@example.com".into(), ..Default::default() }
    }

    fn no_change() -> RawCustomerUpdate {
        RawCustomerUpdate {
            email: Change::Keep,
            first_name: Change::Keep,
            last_name: Change::Keep,
            phone: Change::Keep,
            tags: None,
            add_tags: vec![],
            remove_tags: vec![],
            metadata: None,
            addresses: None,
        }
    }

    #[test]
    fn reads_a_national_phone_in_the_default_address_country() {
        let raw = RawNewCustomer {
            phone: Some("020 7946 0958".into()),
            addresses: vec![RawAddress { city: Some("London".into()), country: Some("GB".into()), ..Default::default() }],
            ..new_customer()
        };
        assert_eq!(NewCustomer::parse(&raw).unwrap().profile.phone.as_deref(), Some("+442079460958"));
    }

    #[test]
    fn update_merges_and_clears() {
        let current = NewCustomer::parse(&RawNewCustomer {
            first_name: Some("Sarah".into()),
            tags: vec!["retail".into(), "newsletter".into()],
            metadata: Some(json!({"source": "trade_show", "rep": "mike_d"})),
            ..new_customer()
        })
        .unwrap()
        .profile;
        let update = CustomerUpdate::parse(&RawCustomerUpdate {
            first_name: Change::Clear,
            last_name: Change::Set(" Chen ".into()),
            add_tags: vec!["vip".into()],
            remove_tags: vec!["retail".into()],
            metadata: Some(json!({"rep": null})),
            ..no_change()
        })
        .unwrap();
        let next = update.apply(current, None).unwrap();
        assert_eq!(next.first_name, None);
        assert_eq!(next.last_name.as_deref(), Some("Chen"));
        assert_eq!(next.tags.into_vec(), ["newsletter", "vip"]);
        assert_eq!(next.metadata.to_json(), json!({"source": "trade_show"}));
    }

    #[test]
    fn update_refuses_contradictions() {
        let clear_email = RawCustomerUpdate { email: Change::Clear, ..no_change() };
        assert_eq!(CustomerUpdate::parse(&clear_email).unwrap_err().path, ["email"]);
        let both = RawCustomerUpdate { tags: Some(vec![]), add_tags: vec!["x".into()], ..no_change() };
        assert_eq!(CustomerUpdate::parse(&both).unwrap_err().path, ["tags"]);
        assert!(CustomerUpdate::parse(&no_change()).unwrap().is_empty());
    }
}
