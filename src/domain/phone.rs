//! Phone numbers: normalised to E.164 with libphonenumber's metadata when they parse as a valid
//! number (using the customer's address country for national formats); otherwise kept as typed,
//! as long as they look like a phone number at all.

use super::InputError;
use phonenumber::{Mode, country};
use std::sync::Once;

/// Compiled patterns libphonenumber's metadata keeps. The crate's default (100) is smaller than
/// the patterns a handful of countries use, so parsing recompiled regexes over and over (most of
/// the time of a parse); a few thousand cover every country at a few MiB.
const REGEX_CACHE_ENTRIES: usize = 4096;

pub(crate) fn enlarge_regex_cache() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let cache = phonenumber::metadata::DATABASE.cache();
        *cache.lock().unwrap_or_else(|e| e.into_inner()) = regex_cache::RegexCache::new(REGEX_CACHE_ENTRIES);
    });
}

/// The fewest and most digits a phone number may have (E.164 allows 15; international prefixes add a few).
const DIGITS: std::ops::RangeInclusive<usize> = 3..=20;

/// A phone number, in E.164 where it could be normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `text`; `region` (ISO 3166-1 alpha-2) reads national formats such as `(415) 555-0142`.
    pub fn parse(field: &str, text: &str, region: Option<&str>) -> Result<Option<Self>, InputError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let allowed = |c: char| c.is_ascii_digit() || " +-.()/".contains(c);
        let digits = text.chars().filter(char::is_ascii_digit).count();
        if !text.chars().all(allowed) || !DIGITS.contains(&digits) || text.chars().count() > 32 {
            return Err(InputError::new(field, "is not a phone number"));
        }
        let region = region.and_then(|r| r.parse::<country::Id>().ok());
        enlarge_regex_cache();
        let normalised = phonenumber::parse(region, text)
            .ok()
            .filter(phonenumber::PhoneNumber::is_valid)
            .map(|number| number.format().mode(Mode::E164).to_string());
        Ok(Some(Self(normalised.unwrap_or_else(|| text.to_owned()))))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the stored form back out.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str, region: Option<&str>) -> String {
        Phone::parse("phone", text, region).unwrap().unwrap().into_string()
    }

    #[test]
    fn normalises_international_and_national_formats() {
        assert_eq!(parsed("+1 (415) 555-2671", None), "+14155552671");
        assert_eq!(parsed("415.555.2671", Some("US")), "+14155552671");
        assert_eq!(parsed("020 7946 0958", Some("GB")), "+442079460958");
        assert_eq!(parsed("+49 30 901820", None), "+4930901820");
    }

    #[test]
    fn keeps_numbers_it_cannot_normalise_as_typed() {
        assert_eq!(parsed("+1-555-0142", None), "+1-555-0142");
        assert_eq!(parsed("415 555 2671", None), "415 555 2671");
    }

    #[test]
    fn empty_means_no_phone() {
        assert_eq!(Phone::parse("phone", "  ", None), Ok(None));
    }

    #[test]
    fn refuses_what_is_not_a_phone_number() {
        for bad in ["call me", "12", "+1 415 555 2671 222 333 444 555", "555-CALL-NOW"] {
            assert!(Phone::parse("phone", bad, None).is_err(), "{bad:?} was accepted");
        }
    }
}
