//! Email addresses: trimmed, syntax-checked, at most 254 characters. Uniqueness within a store
//! ignores case (the database compares `lower(email)`); the address is kept as typed.

use super::InputError;
use email_address::{EmailAddress, Options};

/// The longest address accepted (RFC 5321's path limit less the angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;

/// A syntactically valid email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses `text`, reporting problems at `field`.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(InputError::new(field, "is required"));
        }
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(InputError::new(field, format!("must be at most {MAX_EMAIL_CHARS} characters")));
        }
        super::nul::refuse(field, text)?;
        let options = Options::default().with_required_tld().without_domain_literal();
        let options = Options { allow_display_text: false, ..options };
        EmailAddress::parse_with_options(text, options)
            .map_err(|_| InputError::new(field, "is not a valid email address"))?;
        Ok(Self(text.to_owned()))
    }

    /// The form an address is looked up by (`customerByEmail`): trimmed, any text that could be
    /// stored (a lookup of something that is not an address simply finds nothing).
    pub fn lookup_form<'a>(field: &str, text: &'a str) -> Result<&'a str, InputError> {
        super::nul::refuse(field, text)?;
        Ok(text.trim())
    }

    /// The address as typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_keeps_their_case() {
        let email = Email::parse("email", "  Sarah.Chen+news@Example.com ").unwrap();
        assert_eq!(email.as_str(), "Sarah.Chen+news@Example.com");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for bad in ["", "   ", "john", "john@", "@acme.com", "john@acme", "John <john@acme.com>", "a b@acme.com", "john@[127.0.0.1]"] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refuses_nul_characters() {
        assert_eq!(Email::parse("email", "a\u{0}@b.co").unwrap_err().message, crate::domain::nul::MESSAGE);
        assert!(Email::lookup_form("email", "a\u{0}").is_err());
        assert_eq!(Email::lookup_form("email", " a@b.co ").unwrap(), "a@b.co");
    }

    #[test]
    fn refuses_over_long_addresses() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse("email", &long).unwrap_err().path, ["email"]);
    }
}
