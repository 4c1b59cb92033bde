//! Notes staff keep on a customer: a body of 1 to 10,000 characters and an author.

use super::InputError;
use super::text::optional_text;

/// The longest note, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// A validated note body (trimmed; inner line breaks kept).
pub fn parse_body(field: &str, body: &str) -> Result<String, InputError> {
    let body = body.trim();
    if body.is_empty() {
        return Err(InputError::new(field, "must not be empty"));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(InputError::new(field, format!("must be at most {MAX_BODY_CHARS} characters")));
    }
    if body.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(InputError::new(field, "must not contain control characters"));
    }
    Ok(body.to_owned())
}

/// A validated author name, or `fallback` (the API key's name) when none is given.
pub fn parse_author(field: &str, author: Option<&str>, fallback: &str) -> Result<String, InputError> {
    Ok(optional_text(field, author)?.unwrap_or_else(|| fallback.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_bounded_and_keep_line_breaks() {
        assert_eq!(parse_body("body", " Called about sizing.\nWill reorder. ").unwrap(), "Called about sizing.\nWill reorder.");
        assert!(parse_body("body", "  ").is_err());
        assert!(parse_body("body", &"é".repeat(MAX_BODY_CHARS)).is_ok());
        assert!(parse_body("body", &"é".repeat(MAX_BODY_CHARS + 1)).is_err());
        assert!(parse_body("body", "bell\u{7}").is_err());
    }

    #[test]
    fn author_falls_back_to_the_key_name() {
        assert_eq!(parse_author("author", None, "back-office").unwrap(), "back-office");
        assert_eq!(parse_author("author", Some(" Mike D "), "x").unwrap(), "Mike D");
    }
}
