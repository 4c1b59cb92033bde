//! Short free-text values (names, address lines): trimmed, bounded, no control characters.

use super::InputError;

/// The longest name or address line accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// Trims `value`; an empty result becomes `None`. Refuses over-long text and control characters.
pub fn optional_text(field: &str, value: Option<&str>) -> Result<Option<String>, InputError> {
    bounded_text(field, value, MAX_TEXT_CHARS)
}

/// [`optional_text`] with another limit than [`MAX_TEXT_CHARS`].
pub fn bounded_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, InputError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(InputError::new(field, format!("must be at most {max} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(InputError::new(field, "must not contain control characters"));
    }
    Ok(Some(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_empties_to_none() {
        assert_eq!(optional_text("f", Some("  Ann ")), Ok(Some("Ann".into())));
        assert_eq!(optional_text("f", Some("   ")), Ok(None));
        assert_eq!(optional_text("f", None), Ok(None));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(optional_text("f", Some(&"é".repeat(255))).is_ok());
        assert!(optional_text("f", Some(&"é".repeat(256))).is_err());
    }

    #[test]
    fn refuses_control_characters() {
        assert!(optional_text("f", Some("a\u{0}b")).is_err());
    }
}
