//! Input limits, one rule for both backends, checked before any database work.
//!
//! - **No NUL character** (U+0000) in any string: PostgreSQL's `text` cannot store it (and
//!   `jsonb` refuses the `\u0000` escape), so a value SQLite would keep must be refused for
//!   every backend alike. Serde's JSON parser already refuses lone surrogates, the other
//!   thing PostgreSQL cannot store.
//! - **Sizes** generous for real directories but small enough for a PostgreSQL index entry
//!   and for a list page to stay bounded: see the constants (also in the README and in the
//!   `/Schemas` descriptions).
//!
//! Pure: the callers are resource normalization, the PATCH value normalizer, the filter
//! lexer and the JSON body reader, the layers every input passes.

use serde_json::Value;

use super::error::{ScimError, ScimResult};

/// Attributes kept in indexed columns (or compared through one): a PostgreSQL B-tree entry
/// holds at most ~2,700 bytes, and these are names and identifiers.
pub const MAX_INDEXED_BYTES: usize = 1024;
/// Any other string or reference attribute.
pub const MAX_STRING_BYTES: usize = 16 * 1024;
/// Binary attributes (base64 X.509 certificates).
pub const MAX_BINARY_BYTES: usize = 64 * 1024;
/// Values of one multi-valued attribute (group `members` excepted: bounded by the body).
pub const MAX_VALUES: usize = 1000;
/// A stored resource's JSON, group members excepted (they are rows of their own).
pub const MAX_RESOURCE_BYTES: usize = 64 * 1024;
/// Any string anywhere in a request body (unknown attributes, owner API fields): the
/// per-attribute limits above are stricter where they apply.
pub const MAX_BODY_STRING_BYTES: usize = MAX_BINARY_BYTES;
/// A list response's resources stop being added once they reach this many bytes: the page
/// is shortened (`itemsPerPage` says how many it holds; `totalResults` is unchanged) so a
/// list answer stays bounded whatever clients stored.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Group members one page of a list may carry (about `MAX_PAGE_BYTES` of rendered members):
/// a page stops before the group that would pass it, so groups of 100,000 members listed 200
/// at a time never load 20 million rows. A single group is always shown whole.
pub const MAX_PAGE_MEMBERS: i64 = 50_000;

/// A NUL character refused, naming where it was.
pub fn nul_error(label: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "'{label}' contains a NUL character (U+0000), which is not accepted in any value"
    ))
}

/// Check one string value (named `label` in the error) against its attribute's limit,
/// `AttrDef::max_bytes` (the schema knows which attributes are indexed).
pub fn check_string(label: &str, max: usize, s: &str) -> ScimResult<()> {
    if s.contains('\0') {
        return Err(nul_error(label));
    }
    if s.len() > max {
        return Err(ScimError::invalid_value(format!(
            "'{label}' is {} bytes long; at most {max} bytes are accepted",
            s.len()
        )));
    }
    Ok(())
}

/// Check the number of values of a multi-valued attribute.
pub fn check_values(label: &str, n: usize) -> ScimResult<()> {
    if n > MAX_VALUES && label != "members" {
        return Err(ScimError::invalid_value(format!(
            "'{label}' has {n} values; at most {MAX_VALUES} are accepted"
        )));
    }
    Ok(())
}

/// Check a normalized resource's size (group members excepted), naming its largest
/// attribute so the client knows what to trim.
pub fn check_resource(resource: &Value) -> ScimResult<()> {
    let Some(obj) = resource.as_object() else {
        return Ok(());
    };
    let mut total = 2;
    let mut largest: Option<(&str, usize)> = None;
    for (k, v) in obj {
        if k == "members" {
            continue;
        }
        let n = k.len() + 4 + json_len(v);
        total += n;
        if largest.is_none_or(|(_, m)| n > m) {
            largest = Some((k, n));
        }
    }
    if total > MAX_RESOURCE_BYTES {
        let name = largest.map_or("", |(k, _)| k);
        return Err(ScimError::invalid_value(format!(
            "the resource is {total} bytes as stored; at most {MAX_RESOURCE_BYTES} are accepted \
             (its largest attribute is '{name}')"
        )));
    }
    Ok(())
}

/// Serialized length of a JSON value (without allocating it).
pub fn json_len(v: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Counter(0);
    // Writing to a counter cannot fail.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Walk a whole request body: no NUL in any string or key, no string over
/// [`MAX_BODY_STRING_BYTES`]. The error names the JSON location (`Operations[0].value.name`).
pub fn check_body(v: &Value) -> ScimResult<()> {
    walk(v, &mut String::new())
}

fn walk(v: &Value, at: &mut String) -> ScimResult<()> {
    match v {
        Value::String(s) => {
            if s.contains('\0') {
                return Err(nul_error(label(at)));
            }
            if s.len() > MAX_BODY_STRING_BYTES {
                return Err(ScimError::invalid_value(format!(
                    "'{}' is {} bytes long; at most {MAX_BODY_STRING_BYTES} bytes are accepted",
                    label(at),
                    s.len()
                )));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("[{i}]"));
                walk(item, at)?;
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            // A PATCH operation's value is named by its path (`Operations[0].name.givenName`).
            let patch_path = m
                .get("path")
                .and_then(Value::as_str)
                .filter(|p| !p.contains('\0') && m.contains_key("op"));
            for (k, item) in m {
                let len = at.len();
                if !at.is_empty() {
                    at.push('.');
                }
                if k.contains('\0') {
                    at.push_str(&k.replace('\0', "\\u0000"));
                    return Err(nul_error(label(at)));
                }
                match patch_path {
                    Some(p) if k == "value" => at.push_str(p),
                    _ => at.push_str(k),
                }
                walk(item, at)?;
                at.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

fn label(at: &str) -> &str {
    if at.is_empty() {
        "the body"
    } else {
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::user_resource;
    use serde_json::json;

    #[test]
    fn nul_is_refused_anywhere_in_a_body_naming_the_place() {
        let e = check_body(
            &json!({"Operations": [{"op": "add", "value": {"name": {"givenName": "a\u{0}"}}}]}),
        )
        .unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidValue");
        assert!(
            e.detail.contains("'Operations[0].value.name.givenName'"),
            "{}",
            e.detail
        );
        let e = check_body(&json!({"a\u{0}b": 1})).unwrap_err();
        assert!(e.detail.contains("a\\u0000b"), "{}", e.detail);
        assert!(check_body(&json!({"userName": "ok", "n": [1, true, null]})).is_ok());
        let e = check_body(
            &json!({"Operations": [{"op": "replace", "path": "name.familyName",
                                                    "value": "\u{0}"}]}),
        )
        .unwrap_err();
        assert!(
            e.detail.contains("'Operations[0].name.familyName'"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn indexed_strings_have_the_tighter_limit() {
        let rs = user_resource();
        let user_name = rs.core.attr("userName").unwrap();
        let nick = rs.core.attr("nickName").unwrap();
        assert!(check_string(
            "userName",
            user_name.max_bytes(),
            &"a".repeat(MAX_INDEXED_BYTES)
        )
        .is_ok());
        let e = check_string(
            "userName",
            user_name.max_bytes(),
            &"a".repeat(MAX_INDEXED_BYTES + 1),
        )
        .unwrap_err();
        assert!(e.detail.contains("'userName'"), "{}", e.detail);
        assert!(check_string("nickName", nick.max_bytes(), &"a".repeat(5000)).is_ok());
        assert!(check_string(
            "nickName",
            nick.max_bytes(),
            &"a".repeat(MAX_STRING_BYTES + 1)
        )
        .is_err());
    }

    #[test]
    fn a_large_resource_names_its_largest_attribute() {
        let r = json!({"userName": "a", "nickName": "x".repeat(MAX_RESOURCE_BYTES)});
        let e = check_resource(&r).unwrap_err();
        assert!(e.detail.contains("'nickName'"), "{}", e.detail);
        let g =
            json!({"displayName": "g", "members": vec![json!({"value": "x".repeat(100)}); 2000]});
        assert!(check_resource(&g).is_ok());
    }
}
