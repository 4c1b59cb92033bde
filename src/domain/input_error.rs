//! The one error a parser of user input returns: what is wrong and where in the input it is.

/// A rejected piece of user input, with the path to it (e.g. `["input", "metadata", "source"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Where the bad value sits in the request's arguments.
    pub path: Vec<String>,
    /// What is wrong, in words a developer can act on.
    pub message: String,
}

impl InputError {
    /// An error at `field` (a dotted path below the argument, e.g. `"addresses.0.country"`).
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            path: field.split('.').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            message: message.into(),
        }
    }

    /// Puts `prefix` (an argument name, a list index...) in front of the path.
    pub fn under(mut self, prefix: &str) -> Self {
        let mut path: Vec<String> = prefix.split('.').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        path.append(&mut self.path);
        self.path = path;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_prepends_the_argument() {
        let err = InputError::new("metadata.source", "too long").under("input");
        assert_eq!(err.path, ["input", "metadata", "source"]);
    }
}
