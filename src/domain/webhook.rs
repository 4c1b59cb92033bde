//! Webhooks: the events a store can receive, endpoint URLs (and which hosts they may reach), the
//! signing secret, and the `Whale-Signature` header (Stripe's scheme: `t=<unix>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>">`).

use super::InputError;
use super::signing::mac;
use hmac::Mac;
use rand::RngCore;
use std::net::IpAddr;
use url::{Host, Url};

/// What happened, as named in a delivery's `event` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    CustomerCreated,
    CustomerUpdated,
    CustomerDeleted,
    DataRequestCompleted,
    DataRequestFailed,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 5] =
        [Self::CustomerCreated, Self::CustomerUpdated, Self::CustomerDeleted, Self::DataRequestCompleted, Self::DataRequestFailed];

    /// The name sent and stored, e.g. `data_request.completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerDeleted => "customer.deleted",
            Self::DataRequestCompleted => "data_request.completed",
            Self::DataRequestFailed => "data_request.failed",
        }
    }

    /// The type stored as `name`.
    pub fn from_stored(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2048;
/// The most endpoints a store may have.
pub const MAX_ENDPOINTS_PER_STORE: i64 = 16;

/// Checks an endpoint URL: absolute `https` or `http`, a host, no credentials or fragment. Unless
/// `allow_private`, a host given as an IP address must be a public one (the same rule applies
/// to every address a host name resolves to, when a delivery connects).
pub fn parse_url(field: &str, text: &str, allow_private: bool) -> Result<Url, InputError> {
    let text = text.trim();
    if text.chars().count() > MAX_URL_CHARS {
        return Err(InputError::new(field, format!("must be at most {MAX_URL_CHARS} characters")));
    }
    let url = Url::parse(text).map_err(|e| InputError::new(field, format!("is not an absolute URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(InputError::new(field, "must be an https:// (or http://) URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(InputError::new(field, "must not contain credentials; authenticate deliveries by their signature"));
    }
    if url.fragment().is_some() {
        return Err(InputError::new(field, "must not have a #fragment"));
    }
    let ip = match url.host() {
        None => return Err(InputError::new(field, "must name a host")),
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(_)) => None,
    };
    if let Some(ip) = ip.filter(|ip| !allow_private && !is_public(*ip)) {
        return Err(InputError::new(field, format!("must not point at a private, loopback or link-local address ({ip}); a server for development can allow them with WHALE_WEBHOOK_ALLOW_PRIVATE=true")));
    }
    Ok(url)
}

/// Whether deliveries may connect to `ip`: not loopback, private, link-local (cloud metadata),
/// shared (CGNAT), benchmarking, unspecified, multicast, broadcast, reserved or documentation
/// space — nor an IPv6 address that embeds or translates to such an IPv4 address (mapped,
/// compatible, NAT64, 6to4), nor IPv6 unique-local, site-local or Teredo space.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| IpAddr::V4(std::net::Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            match s {
                // IPv4-compatible (deprecated), and the unspecified and loopback addresses
                [0, 0, 0, 0, 0, 0, ..] => false,
                // NAT64: the IPv4 address it translates to
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => is_public(embedded(hi, lo)),
                [0x64, 0xff9b, 1, ..] => false,
                // 6to4: the IPv4 address it tunnels to
                [0x2002, hi, lo, ..] => is_public(embedded(hi, lo)),
                // Teredo, documentation
                [0x2001, 0, ..] | [0x2001, 0x0db8, ..] => false,
                [first, ..] => {
                    !(v6.is_multicast()
                        || (first & 0xfe00) == 0xfc00 // unique local
                        || (first & 0xffc0) == 0xfe80 // link-local
                        || (first & 0xffc0) == 0xfec0) // site-local
                }
            }
        }
    }
}

/// A new signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The `Whale-Signature` header for `body` sent at `timestamp` (unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = mac(secret.as_bytes(), timestamp.to_string().as_bytes());
    signed.update(b".");
    signed.update(body);
    format!("t={timestamp},v1={}", hex::encode(signed.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_names() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_stored(t.as_str()), Some(t));
        }
        assert_eq!(EventType::from_stored("customer.merged"), None);
    }

    #[test]
    fn urls_must_be_absolute_http_without_credentials() {
        assert!(parse_url("url", " https://hooks.example.com/whale?x=1 ", false).is_ok());
        for bad in ["hooks.example.com/x", "ftp://example.com/", "https://user:pw@example.com/", "https://example.com/#frag", "mailto:a@b.c"] {
            assert!(parse_url("url", bad, false).is_err(), "{bad}");
        }
        assert!(parse_url("url", &format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS)), false).is_err());
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let private = [
            "http://127.0.0.1:8080/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://192.0.0.8/",
            "http://[::1]/",
            "http://[::]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[fec0::1]/",
            "http://[::ffff:192.168.0.1]/",
            "http://[::a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[2001:0:4136:e378::1]/",
        ];
        for private in private {
            let err = parse_url("url", private, false).expect_err(private);
            assert!(err.message.contains("private") && err.message.contains("WHALE_WEBHOOK_ALLOW_PRIVATE=true"), "{}", err.message);
            assert!(parse_url("url", private, true).is_ok(), "{private}");
        }
        for public in ["http://93.184.215.14/hook", "http://[2606:4700::1111]/", "http://[64:ff9b::5db8:d70e]/", "http://[2002:5db8:d70e::1]/"] {
            assert!(parse_url("url", public, false).is_ok(), "{public}");
        }
    }

    #[test]
    fn the_signature_is_stripes_scheme() {
        // HMAC-SHA256("whsec_test", "1700000000.{}") computed independently (Python's hmac).
        let header = signature_header("whsec_test", 1_700_000_000, b"{}");
        assert_eq!(header, "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91");
    }

    #[test]
    fn secrets_are_random_and_prefixed() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a.len() == 6 + 64);
        assert_ne!(a, b);
    }
}
