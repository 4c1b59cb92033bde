//! Typed ids. Rows are keyed by UUIDv7 (time-ordered for index locality, 74 random bits so they
//! cannot be guessed); users see them as prefixed strings such as `cust_0193...`.

use std::fmt;
use uuid::Uuid;

/// Why a public id was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadId {
    /// The prefix the id should have had.
    pub expected_prefix: &'static str,
}

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "is not a valid id: expected `{}` followed by 32 hex digits", self.expected_prefix)
    }
}

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The prefix of this kind of id's public form.
            pub const PREFIX: &'static str = $prefix;

            /// A new, unguessable, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Reads the public form (`prefix` + 32 lowercase hex digits).
            pub fn parse(text: &str) -> Result<Self, BadId> {
                let bad = || BadId { expected_prefix: $prefix };
                let hex = text.strip_prefix($prefix).ok_or_else(bad)?;
                if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                    return Err(bad());
                }
                Uuid::try_parse(hex).map(Self).map_err(|_| bad())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0.simple())
            }
        }
    };
}

public_id!(
    /// A store: the tenant every other record belongs to.
    StoreId, "store_"
);
public_id!(
    /// An API key (its row, not its secret).
    ApiKeyId, "key_"
);
public_id!(
    /// A customer profile.
    CustomerId, "cust_"
);
public_id!(
    /// One of a customer's addresses.
    AddressId, "addr_"
);
public_id!(
    /// An activity event.
    EventId, "evt_"
);
public_id!(
    /// A note on a customer.
    NoteId, "note_"
);
public_id!(
    /// A customer segment.
    SegmentId, "seg_"
);
public_id!(
    /// A background job.
    JobId, "job_"
);
public_id!(
    /// A GDPR/CCPA data request (erasure or export).
    DataRequestId, "dreq_"
);
public_id!(
    /// A webhook endpoint: a URL of the store's that receives events.
    WebhookEndpointId, "we_"
);
public_id!(
    /// An event sent to webhook endpoints (the same for every endpoint that received it).
    WebhookEventId, "whevt_"
);
public_id!(
    /// One event's delivery to one endpoint, with its attempts.
    WebhookDeliveryId, "whdel_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_public_form() {
        let id = CustomerId::generate();
        let text = id.to_string();
        assert!(text.starts_with("cust_") && text.len() == 37, "{text}");
        assert_eq!(CustomerId::parse(&text), Ok(id));
    }

    #[test]
    fn refuses_other_prefixes_and_shapes() {
        let id = CustomerId::generate().0.simple().to_string();
        assert!(CustomerId::parse(&format!("seg_{id}")).is_err());
        assert!(CustomerId::parse(&format!("cust_{}", id.to_uppercase())).is_err());
        assert!(CustomerId::parse("cust_123").is_err());
        assert!(CustomerId::parse(&format!("cust_{id}0")).is_err());
        assert!(CustomerId::parse("").is_err());
    }

    #[test]
    fn successive_ids_differ_in_their_random_part() {
        let a = CustomerId::generate().0.as_bytes()[8..].to_vec();
        let b = CustomerId::generate().0.as_bytes()[8..].to_vec();
        assert_ne!(a, b);
    }
}
