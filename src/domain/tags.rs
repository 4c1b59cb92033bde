//! Tags: trimmed, de-duplicated (first spelling wins, exact match), at most 250 of at most
//! 255 characters each. Tags are compared exactly, so `VIP` and `vip` are two tags.

use super::InputError;

/// The most tags a customer may carry.
pub const MAX_TAGS: usize = 250;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 255;

/// A customer's tag list, in the order first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Validates and normalises a list of tags given at `field`.
    pub fn parse(field: &str, tags: &[String]) -> Result<Self, InputError> {
        let mut out = Tags::default();
        out.add(field, tags)?;
        Ok(out)
    }

    /// Adds `tags` (validated) to the list, keeping it within the limits.
    pub fn add(&mut self, field: &str, tags: &[String]) -> Result<(), InputError> {
        for (i, tag) in tags.iter().enumerate() {
            let tag = clean(&format!("{field}.{i}"), tag)?;
            if !self.0.contains(&tag) {
                self.0.push(tag);
            }
        }
        if self.0.len() > MAX_TAGS {
            return Err(InputError::new(field, format!("a customer may have at most {MAX_TAGS} tags")));
        }
        Ok(())
    }

    /// Removes `tags` (compared after trimming); tags not present are ignored.
    pub fn remove(&mut self, tags: &[String]) {
        self.0.retain(|t| !tags.iter().any(|r| r.trim() == t));
    }

    /// The tags as stored.
    pub fn into_vec(self) -> Vec<String> {
        self.0
    }

    /// Wraps tags read back from the database.
    pub fn from_stored(tags: Vec<String>) -> Self {
        Self(tags)
    }
}

/// Validates one tag for use in a filter or a list.
pub fn clean(field: &str, tag: &str) -> Result<String, InputError> {
    let tag = tag.trim();
    if tag.is_empty() {
        return Err(InputError::new(field, "a tag must not be empty"));
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(InputError::new(field, format!("a tag must be at most {MAX_TAG_CHARS} characters")));
    }
    if tag.chars().any(char::is_control) {
        return Err(InputError::new(field, "a tag must not contain control characters"));
    }
    Ok(tag.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn trims_and_deduplicates_keeping_order() {
        let tags = Tags::parse("tags", &strings(&[" vip", "wholesale ", "vip", "VIP"])).unwrap();
        assert_eq!(tags.into_vec(), ["vip", "wholesale", "VIP"]);
    }

    #[test]
    fn add_and_remove() {
        let mut tags = Tags::from_stored(strings(&["a", "b"]));
        tags.add("addTags", &strings(&["c", "a"])).unwrap();
        tags.remove(&strings(&[" b ", "zzz"]));
        assert_eq!(tags.into_vec(), ["a", "c"]);
    }

    #[test]
    fn enforces_the_limits_with_the_offending_index() {
        assert_eq!(Tags::parse("tags", &strings(&["ok", " "])).unwrap_err().path, ["tags", "1"]);
        assert!(Tags::parse("tags", &[("x".repeat(256))]).is_err());
        let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse("tags", &many).unwrap_err().path, ["tags"]);
        assert!(Tags::parse("tags", &many[..MAX_TAGS]).is_ok());
    }
}
