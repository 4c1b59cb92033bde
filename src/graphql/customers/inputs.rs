//! Input objects for customer mutations and the list's enums, converted to domain input.

use crate::db::customer_list::{Direction, SortKey};
use crate::domain::address::RawAddress;
use crate::domain::customer::{Change, RawCustomerUpdate, RawNewCustomer};
use crate::graphql::scalars::Json;
use async_graphql::{Enum, InputObject, MaybeUndefined};

/// A postal address.
#[derive(InputObject, Debug, Clone, Default)]
pub struct AddressInput {
    /// Recipient's given name.
    pub first_name: Option<String>,
    /// Recipient's family name.
    pub last_name: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// Street address.
    pub line1: Option<String>,
    /// Apartment, suite, unit.
    pub line2: Option<String>,
    /// City or locality.
    pub city: Option<String>,
    /// State, province or region.
    pub state: Option<String>,
    /// Postal or ZIP code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code, e.g. `US` (case-insensitive).
    pub country: Option<String>,
    /// Phone number at this address; national formats are read in `country`.
    pub phone: Option<String>,
    /// Make this the default address (otherwise the first address is).
    #[graphql(default)]
    pub is_default: bool,
}

impl From<&AddressInput> for RawAddress {
    fn from(a: &AddressInput) -> Self {
        Self {
            first_name: a.first_name.clone(),
            last_name: a.last_name.clone(),
            company: a.company.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            state: a.state.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
            phone: a.phone.clone(),
            is_default: a.is_default,
        }
    }
}

/// A new customer.
#[derive(InputObject, Debug, Clone)]
pub struct CustomerCreateInput {
    /// Email address (required; unique in the store ignoring case; at most 254 characters).
    pub email: String,
    /// Given name (at most 255 characters).
    pub first_name: Option<String>,
    /// Family name (at most 255 characters).
    pub last_name: Option<String>,
    /// Phone number, normalised to E.164 where it parses (national formats read in the default
    /// address's country).
    pub phone: Option<String>,
    /// Tags: at most 250, each 1–255 characters, trimmed and de-duplicated.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Custom data: an object of at most 50 keys (≤ 40 characters) with string values
    /// (≤ 500 characters).
    pub metadata: Option<Json>,
    /// Addresses (at most 20); the first is the default unless one sets `isDefault`.
    #[graphql(default)]
    pub addresses: Vec<AddressInput>,
}

impl From<&CustomerCreateInput> for RawNewCustomer {
    fn from(i: &CustomerCreateInput) -> Self {
        Self {
            email: i.email.clone(),
            first_name: i.first_name.clone(),
            last_name: i.last_name.clone(),
            phone: i.phone.clone(),
            tags: i.tags.clone(),
            metadata: i.metadata.as_ref().map(|m| m.0.clone()),
            addresses: i.addresses.iter().map(RawAddress::from).collect(),
        }
    }
}

/// Changes to a customer. Absent fields are left alone; `null` clears a field.
#[derive(InputObject, Debug, Clone)]
pub struct CustomerUpdateInput {
    /// New email address (cannot be null).
    pub email: MaybeUndefined<String>,
    /// New given name; null clears it.
    pub first_name: MaybeUndefined<String>,
    /// New family name; null clears it.
    pub last_name: MaybeUndefined<String>,
    /// New phone number; null clears it.
    pub phone: MaybeUndefined<String>,
    /// Replaces all tags. Cannot be combined with `addTags` or `removeTags`.
    pub tags: Option<Vec<String>>,
    /// Tags to add (existing ones are kept).
    #[graphql(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove (absent ones are ignored). Applied before `addTags`.
    #[graphql(default)]
    pub remove_tags: Vec<String>,
    /// Keys to merge into the metadata; a null value deletes its key.
    pub metadata: Option<Json>,
    /// Replaces all addresses.
    pub addresses: Option<Vec<AddressInput>>,
}

fn change(value: &MaybeUndefined<String>) -> Change<String> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(v.clone()),
    }
}

impl From<&CustomerUpdateInput> for RawCustomerUpdate {
    fn from(i: &CustomerUpdateInput) -> Self {
        Self {
            email: change(&i.email),
            first_name: change(&i.first_name),
            last_name: change(&i.last_name),
            phone: change(&i.phone),
            tags: i.tags.clone(),
            add_tags: i.add_tags.clone(),
            remove_tags: i.remove_tags.clone(),
            metadata: i.metadata.as_ref().map(|m| m.0.clone()),
            addresses: i.addresses.as_ref().map(|list| list.iter().map(RawAddress::from).collect()),
        }
    }
}

/// What a customer list is sorted by. Ties are broken by id; customers without a value sort last.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerSortKey {
    /// When the profile was created.
    CreatedAt,
    /// When the profile was last changed.
    UpdatedAt,
    /// When the latest order was placed (customers without orders last).
    LastOrderAt,
    /// Total spent.
    TotalSpent,
    /// Number of orders.
    TotalOrders,
    /// Email address, ignoring case.
    Email,
}

impl From<CustomerSortKey> for SortKey {
    fn from(k: CustomerSortKey) -> Self {
        match k {
            CustomerSortKey::CreatedAt => Self::CreatedAt,
            CustomerSortKey::UpdatedAt => Self::UpdatedAt,
            CustomerSortKey::LastOrderAt => Self::LastOrderAt,
            CustomerSortKey::TotalSpent => Self::TotalSpent,
            CustomerSortKey::TotalOrders => Self::TotalOrders,
            CustomerSortKey::Email => Self::Email,
        }
    }
}

/// Sort direction.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Smallest, earliest or A first.
    Asc,
    /// Largest, latest or Z first.
    Desc,
}

impl From<SortOrder> for Direction {
    fn from(o: SortOrder) -> Self {
        match o {
            SortOrder::Asc => Self::Asc,
            SortOrder::Desc => Self::Desc,
        }
    }
}
