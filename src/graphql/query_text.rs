//! What is checked of a query's text before it is parsed: its size, and how deeply its brackets
//! nest. The parser recurses once per nesting level of a value or selection, so a value nested a
//! few thousand deep (`[[[[…]]]]`, `{a:{a:…}}`) would overflow the stack; counting brackets is a
//! flat scan that cannot.

/// Why a text is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Longer than `max` bytes.
    TooLong { max: usize },
    /// Brackets nest deeper than `max`.
    TooDeep { max: usize },
}

/// Checks `text` against the limits; the scan skips strings, block strings and comments.
pub fn check(text: &str, max_bytes: usize, max_nesting: usize) -> Result<(), Refusal> {
    if text.len() > max_bytes {
        return Err(Refusal::TooLong { max: max_bytes });
    }
    let bytes = text.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max_nesting {
                    return Err(Refusal::TooDeep { max: max_nesting });
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // an escaped triple quote stays inside
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_values_are_refused_before_parsing() {
        let deep = format!("{{ customers(metadata: {}1{}) {{ totalCount }} }}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(check(&deep, usize::MAX, 64), Err(Refusal::TooDeep { max: 64 }));
        let objects = format!("{{ customers(metadata: {}1{}) {{ totalCount }} }}", "{a:".repeat(2000), "}".repeat(2000));
        assert_eq!(check(&objects, usize::MAX, 64), Err(Refusal::TooDeep { max: 64 }));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!("{{ customers(search: \"{}\") {{ totalCount }} }} # {}\n", "[".repeat(100), "{".repeat(100));
        assert_eq!(check(&text, usize::MAX, 8), Ok(()));
        let block = format!("{{ a(b: \"\"\" \\\"\"\" {} \"\"\") }}", "(".repeat(100));
        assert_eq!(check(&block, usize::MAX, 8), Ok(()));
        let escaped = format!("{{ a(b: \"\\\"{}\") }}", "[".repeat(100));
        assert_eq!(check(&escaped, usize::MAX, 8), Ok(()));
    }

    #[test]
    fn size_is_checked_first() {
        assert_eq!(check("{ a }", 3, 8), Err(Refusal::TooLong { max: 3 }));
        assert_eq!(check("{ a { b { c } } }", 100, 3), Ok(()));
        assert_eq!(check("{ a { b { c { d } } } }", 100, 3), Err(Refusal::TooDeep { max: 3 }));
    }
}
