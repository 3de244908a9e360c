//! Turning what a client wrote into the canonical stored resource: attribute names in their
//! schema case, types checked (with the coercions real IdPs need), read-only and unknown
//! attributes dropped, `schemas` rebuilt. Pure: no storage, no HTTP.

use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::schema::{AttrDef, AttrType, Mutability, ResourceSchema, Returned};

/// Normalize a full resource (POST/PUT body) against its resource type.
pub fn normalize(input: &Value, rs: &ResourceSchema) -> ScimResult<Value> {
    let obj = input
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    check_schemas(obj, rs)?;

    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some(ext) = rs.extension(key) {
            if ext
                .attributes
                .iter()
                .all(|a| a.mutability == Mutability::ReadOnly)
            {
                continue; // e.g. our seat state: server-owned, ignored on write
            }
            let Some(ext_obj) = value.as_object() else {
                if value.is_null() {
                    continue;
                }
                return Err(ScimError::invalid_value(format!(
                    "extension '{}' must be a JSON object",
                    ext.id
                )));
            };
            let mut ext_out = Map::new();
            for (k, v) in ext_obj {
                if let Some(attr) = ext.attr(k) {
                    put_attr(&mut ext_out, attr, v)?;
                }
            }
            if !ext_out.is_empty() {
                out.insert(ext.id.to_string(), Value::Object(ext_out));
            }
            continue;
        }
        match rs.resolve(key) {
            Some(r) if r.sub.is_none() => {
                if r.is_core {
                    put_attr(&mut out, r.attr, value)?;
                } else {
                    // A URN-qualified extension attribute written at the top level.
                    let entry = out
                        .entry(r.schema.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(m) = entry {
                        put_attr(m, r.attr, value)?;
                    }
                }
            }
            _ => {} // unknown attributes are ignored, as RFC 7644 §3.3 allows
        }
    }
    check_required(&out, rs)?;
    out.insert("schemas".into(), schemas_for(&out, rs));
    let out = Value::Object(out);
    super::limits::check_resource(&out)?;
    Ok(out)
}

/// Rebuild `schemas`: the core URN plus each extension present in the resource.
pub fn schemas_for(resource: &Map<String, Value>, rs: &ResourceSchema) -> Value {
    let mut list = vec![Value::String(rs.core.id.to_string())];
    for (ext, _) in &rs.extensions {
        if resource.contains_key(ext.id) {
            list.push(Value::String(ext.id.to_string()));
        }
    }
    Value::Array(list)
}

fn check_schemas(obj: &Map<String, Value>, rs: &ResourceSchema) -> ScimResult<()> {
    let schemas = obj
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
        .map(|(_, v)| v)
        .ok_or_else(|| ScimError::invalid_syntax("the 'schemas' attribute is required"))?;
    let list = schemas
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("'schemas' must be an array of URNs"))?;
    let mut has_core = false;
    for s in list {
        let s = s
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("'schemas' must be an array of URNs"))?;
        // Other URNs (Entra adds its own ADSCIM Group URN) are ignored, like unknown attributes.
        if s.eq_ignore_ascii_case(rs.core.id) {
            has_core = true;
        }
    }
    if !has_core {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain '{}'",
            rs.core.id
        )));
    }
    Ok(())
}

fn check_required(out: &Map<String, Value>, rs: &ResourceSchema) -> ScimResult<()> {
    for attr in &rs.core.attributes {
        if attr.required && attr.mutability != Mutability::ReadOnly {
            match out.get(attr.name) {
                Some(Value::String(s)) if s.trim().is_empty() => {
                    return Err(ScimError::invalid_value(format!(
                        "'{}' must not be empty",
                        attr.name
                    )))
                }
                Some(_) => {}
                None => {
                    return Err(ScimError::invalid_value(format!(
                        "'{}' is required",
                        attr.name
                    )))
                }
            }
        }
    }
    Ok(())
}

/// Normalize `value` for `attr` and store it under the canonical name, unless the attribute
/// is one the client may not write or the value is null (unassigned).
pub fn put_attr(out: &mut Map<String, Value>, attr: &AttrDef, value: &Value) -> ScimResult<()> {
    if attr.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    // Write-only, never-returned values (password) are not kept: we authenticate through SSO.
    if attr.mutability == Mutability::WriteOnly && attr.returned == Returned::Never {
        return Ok(());
    }
    if let Some(v) = normalize_value(attr, value)? {
        out.insert(attr.name.to_string(), v);
    }
    Ok(())
}

/// Normalize one attribute value; `None` means unassigned.
pub fn normalize_value(attr: &AttrDef, value: &Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.multi_valued {
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            single => vec![single], // a lone value for a multi-valued attribute
        };
        super::limits::check_values(attr.name, items.len())?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if let Some(v) = normalize_single(attr, item)? {
                out.push(v);
            }
        }
        if out.is_empty() {
            return Ok(None);
        }
        keep_one_primary(&mut out);
        return Ok(Some(Value::Array(out)));
    }
    normalize_single(attr, value)
}

fn normalize_single(attr: &AttrDef, value: &Value) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    if attr.ty == AttrType::Complex {
        return normalize_complex(attr, value);
    }
    normalize_scalar(attr, value).map(Some)
}

fn normalize_complex(attr: &AttrDef, value: &Value) -> ScimResult<Option<Value>> {
    let obj = match value {
        Value::Object(o) => o,
        // Entra sends enterprise `manager` as a bare id; a bare value of any complex
        // attribute with a `value` sub-attribute means that sub-attribute.
        scalar if attr.sub("value").is_some() && !scalar.is_array() => {
            let mut m = Map::new();
            if let Some(sub) = attr.sub("value") {
                if let Some(v) = normalize_single(sub, scalar)? {
                    m.insert(sub.name.to_string(), v);
                }
            }
            return Ok(if m.is_empty() {
                None
            } else {
                Some(Value::Object(m))
            });
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "'{}' must be a JSON object",
                attr.name
            )))
        }
    };
    let mut m = Map::new();
    for (k, v) in obj {
        if let Some(sub) = attr.sub(k) {
            if sub.mutability == Mutability::ReadOnly {
                continue;
            }
            if let Some(nv) = normalize_single(sub, v)? {
                m.insert(sub.name.to_string(), nv);
            }
        }
    }
    Ok(if m.is_empty() {
        None
    } else {
        Some(Value::Object(m))
    })
}

/// Scalars, with the coercions IdPs rely on: booleans as "True"/"False" strings (Entra).
pub fn normalize_scalar(attr: &AttrDef, value: &Value) -> ScimResult<Value> {
    let wrong = || {
        ScimError::invalid_value(format!(
            "'{}' must be of type {}",
            attr.name,
            attr.ty.as_str()
        ))
    };
    match attr.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => match value {
            Value::String(s) => {
                super::limits::check_string(attr.name, attr.max_bytes(), s)?;
                Ok(value.clone())
            }
            _ => Err(wrong()),
        },
        AttrType::Boolean => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(wrong()),
        },
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            _ => Err(wrong()),
        },
        AttrType::Decimal => match value {
            Value::Number(_) => Ok(value.clone()),
            _ => Err(wrong()),
        },
        AttrType::DateTime => match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
                Ok(value.clone())
            }
            _ => Err(ScimError::invalid_value(format!(
                "'{}' must be an RFC 3339 date-time",
                attr.name
            ))),
        },
        AttrType::Complex => Err(wrong()),
    }
}

/// RFC 7643 §2.4: at most one value of a multi-valued attribute is primary; the first wins.
fn keep_one_primary(items: &mut [Value]) {
    let mut seen = false;
    for item in items.iter_mut() {
        if let Some(Value::Bool(p)) = item.get_mut("primary") {
            if *p {
                if seen {
                    *p = false;
                }
                seen = true;
            }
        }
    }
}

/// Look up an attribute value by canonical name in a canonical resource.
pub fn str_attr<'a>(resource: &'a Value, name: &str) -> Option<&'a str> {
    resource.get(name).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{user_resource, CORE_USER, ENTERPRISE_USER};
    use serde_json::json;

    #[test]
    fn canonicalizes_names_and_coerces_booleans() {
        let rs = user_resource();
        let v = normalize(
            &json!({
                "SCHEMAS": [CORE_USER, ENTERPRISE_USER],
                "USERNAME": "Alice@Example.com",
                "Active": "False",
                "name": {"GIVENNAME": "Alice", "bogus": 1},
                "emails": [{"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}],
                "id": "client-chosen",
                "meta": {"version": "x"},
                "password": "secret",
                "unknownThing": 3,
                ENTERPRISE_USER: {"manager": "mgr-1", "Department": "R&D"}
            }),
            &rs,
        )
        .expect("valid");
        assert_eq!(v["userName"], "Alice@Example.com");
        assert_eq!(v["active"], false);
        assert_eq!(v["name"], json!({"givenName": "Alice"}));
        assert_eq!(v["emails"][1]["primary"], false);
        assert!(v.get("id").is_none() && v.get("meta").is_none());
        assert!(v.get("password").is_none() && v.get("unknownThing").is_none());
        assert_eq!(v[ENTERPRISE_USER]["manager"], json!({"value": "mgr-1"}));
        assert_eq!(v[ENTERPRISE_USER]["department"], "R&D");
        assert_eq!(v["schemas"], json!([CORE_USER, ENTERPRISE_USER]));
    }

    #[test]
    fn rejects_missing_schemas_and_wrong_types() {
        let rs = user_resource();
        let e = normalize(&json!({"userName": "a"}), &rs).unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidSyntax");
        let e = normalize(&json!({"schemas": [CORE_USER], "userName": 5}), &rs).unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidValue");
        let e = normalize(&json!({"schemas": [CORE_USER]}), &rs).unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidValue");
        let e = normalize(
            &json!({"schemas": [CORE_USER], "userName": "a", "active": "maybe"}),
            &rs,
        )
        .unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidValue");
        let e = normalize(&json!({"schemas": ["urn:nope"], "userName": "a"}), &rs).unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidSyntax");
        let ok = normalize(
            &json!({"schemas": [CORE_USER, "urn:other"], "userName": "a"}),
            &rs,
        );
        assert_eq!(ok.unwrap()["schemas"], json!([CORE_USER]));
    }
}
