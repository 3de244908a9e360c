//! SCIM filters (RFC 7644 §3.4.2.2) as separate steps: text -> tokens -> [`Filter`] (syntax
//! only) -> [`TypedFilter`] (resolved against a resource schema) -> SQL (in `store/`) or
//! [`matches`] (in memory, for PATCH value filters and tests).

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod scope;
pub mod validate;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use eval::{matches, matches_element};
pub use parser::{parse_filter, parse_filter_located, MAX_DEPTH, MAX_NODES};
pub use validate::{resolve_sort, validate, validate_located, TypedAttr, TypedFilter};

use crate::scim::error::ScimResult;
use crate::scim::schema::ResourceSchema;

/// A filter for one resource type: parsed, then checked against its schema. Errors name a
/// position in the text, whichever step found them.
pub fn parse_for(input: &str, rs: &ResourceSchema) -> ScimResult<TypedFilter> {
    let (parsed, paths) = parse_filter_located(input)?;
    validate_located(&parsed, rs, &paths)
}

#[cfg(test)]
mod fuzz {
    //! A small deterministic fuzz loop (no proptest, to keep builds lean): random token soup
    //! and every prefix of realistic inputs must give `Ok` or `Err`, never a panic.
    use super::*;
    use crate::scim::path::parse_path;
    use crate::scim::schema::Registry;

    const PIECES: &[&str] = &[
        "userName",
        "emails",
        "name.familyName",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        "urn:",
        ":",
        ".",
        ".value",
        "[",
        "]",
        "(",
        ")",
        " ",
        "  ",
        "eq",
        "EQ",
        "ne",
        "co",
        "sw",
        "ew",
        "gt",
        "ge",
        "lt",
        "le",
        "pr",
        "and",
        "or",
        "not",
        "true",
        "false",
        "null",
        "\"",
        "\"x\"",
        "\"\\u00e9\"",
        "\"\\",
        "-",
        "1",
        "1.5e3",
        "-0",
        "é",
        "\u{0}",
        "$ref",
        "members",
        "value",
        "type",
        "active",
        "meta.lastModified",
        "\"2020-01-01T00:00:00Z\"",
        "password",
        "\u{1F600}",
        "\\",
        "'",
        "emails[type eq \"work\"]",
        ".",
        "9999999999999999999999999",
        "1e999",
    ];

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn exercise(s: &str) {
        let reg = Registry::get();
        if let Ok(f) = parse_filter(s) {
            // Canonical text must re-parse to the same tree.
            assert_eq!(parse_filter(&f.to_string()).as_ref(), Ok(&f), "{s}");
            for rs in [&reg.user, &reg.group] {
                if let Ok(t) = validate(&f, rs) {
                    let _ = matches(
                        &t,
                        &serde_json::json!({"emails": [{"type": "work"}], "name": "x"}),
                    );
                }
            }
        }
        let _ = parse_path(s, &reg.user);
        let _ = parse_path(s, &reg.group);
    }

    #[test]
    fn random_token_soup_never_panics() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let n = 1 + rng.below(12);
            let s: String = (0..n).map(|_| PIECES[rng.below(PIECES.len())]).collect();
            exercise(&s);
        }
    }

    #[test]
    fn every_prefix_of_real_inputs_never_panics() {
        let inputs = [
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m\u00e9""#,
            r#"emails[type eq "work"].value"#,
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646" or value eq "x"]"#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z" and active eq "True""#,
        ];
        for input in inputs {
            let chars: Vec<char> = input.chars().collect();
            for end in 0..=chars.len() {
                let prefix: String = chars[..end].iter().collect();
                exercise(&prefix);
                let suffix: String = chars[end..].iter().collect();
                exercise(&suffix);
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng(42);
        for _ in 0..5_000 {
            let n = rng.below(40);
            let bytes: Vec<u8> = (0..n).map(|_| (rng.next() & 0x7f) as u8).collect();
            exercise(&String::from_utf8_lossy(&bytes));
        }
    }
}
