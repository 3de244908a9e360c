//! Bulk requests (RFC 7644 §3.7): parsing, limits, and `bulkId` references. Pure.

use std::collections::HashMap;

use serde_json::Value;

use super::error::{ScimError, ScimResult};
use super::schema::BULK_REQUEST;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkResource {
    Users,
    Groups,
}

#[derive(Debug, Clone)]
pub struct BulkOperation {
    pub method: BulkMethod,
    pub resource: BulkResource,
    /// The id part of the path (`/Users/{id}`), possibly `bulkId:…`.
    pub id: Option<String>,
    pub bulk_id: Option<String>,
    pub version: Option<String>,
    pub data: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Stop after this many errors; `None` runs every operation.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

fn get_ci<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parse and check a bulk request against `max_operations` (too many → `tooMany`, which the
/// server answers with 413 as RFC 7644 §3.7.4 says).
pub fn parse_bulk_request(body: &Value, max_operations: usize) -> ScimResult<BulkRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    let has_schema = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
    if !has_schema {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain '{BULK_REQUEST}'"
        )));
    }
    let fail_on_errors =
        match get_ci(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                ScimError::invalid_value("'failOnErrors' must be a positive integer")
            })? as usize),
        };
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array"))?;
    if ops.len() > max_operations {
        return Err(ScimError::too_many(format!(
            "the bulk request has {} operations; maxOperations is {max_operations}",
            ops.len()
        )));
    }
    let operations = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            parse_operation(op)
                .map_err(|e| ScimError::new(e.kind, format!("Operations[{i}]: {}", e.detail)))
        })
        .collect::<ScimResult<Vec<_>>>()?;
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

fn parse_operation(op: &Value) -> ScimResult<BulkOperation> {
    let obj = op
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("each operation must be an object"))?;
    let method = match get_ci(obj, "method")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("POST") => BulkMethod::Post,
        Some("PUT") => BulkMethod::Put,
        Some("PATCH") => BulkMethod::Patch,
        Some("DELETE") => BulkMethod::Delete,
        _ => {
            return Err(ScimError::invalid_value(
                "'method' must be POST, PUT, PATCH or DELETE",
            ))
        }
    };
    let path = get_ci(obj, "path")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_value("'path' is required"))?;
    let trimmed = path.trim_start_matches('/');
    let (kind, id) = match trimmed.split_once('/') {
        Some((k, id)) => (k, Some(id.to_string())),
        None => (trimmed, None),
    };
    let resource = if kind.eq_ignore_ascii_case("Users") {
        BulkResource::Users
    } else if kind.eq_ignore_ascii_case("Groups") {
        BulkResource::Groups
    } else {
        return Err(ScimError::invalid_path(format!(
            "'{path}' is not a Users or Groups path"
        )));
    };
    match (method, &id) {
        (BulkMethod::Post, Some(_)) => {
            return Err(ScimError::invalid_path(
                "POST goes to the collection (/Users or /Groups)",
            ))
        }
        (BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete, None) => {
            return Err(ScimError::invalid_path(format!(
                "{} needs a resource path",
                method.as_str()
            )))
        }
        _ => {}
    }
    let bulk_id = get_ci(obj, "bulkId")
        .and_then(Value::as_str)
        .map(str::to_string);
    if method == BulkMethod::Post && bulk_id.is_none() {
        return Err(ScimError::invalid_value("POST operations need a 'bulkId'"));
    }
    let data = get_ci(obj, "data").cloned();
    if matches!(
        method,
        BulkMethod::Post | BulkMethod::Put | BulkMethod::Patch
    ) && data.is_none()
    {
        return Err(ScimError::invalid_value(format!(
            "{} operations need 'data'",
            method.as_str()
        )));
    }
    Ok(BulkOperation {
        method,
        resource,
        id: id.filter(|s| !s.is_empty()),
        bulk_id,
        version: get_ci(obj, "version")
            .and_then(Value::as_str)
            .map(str::to_string),
        data,
    })
}

/// Replace `bulkId:<x>` references with the ids created earlier in the request.
pub fn resolve_refs(value: &mut Value, created: &HashMap<String, String>) -> ScimResult<()> {
    match value {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix("bulkId:") {
                let id = created.get(r).ok_or_else(|| {
                    ScimError::invalid_value(format!(
                        "bulkId '{r}' does not name a resource created earlier in this request"
                    ))
                })?;
                *s = id.clone();
            }
        }
        Value::Array(a) => {
            for v in a {
                resolve_refs(v, created)?;
            }
        }
        Value::Object(m) => {
            for v in m.values_mut() {
                resolve_refs(v, created)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_operations_and_enforces_limits() {
        let body = json!({"schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            {"method": "patch", "path": "/Groups/g1", "data": {}},
            {"method": "DELETE", "path": "/Users/bulkId:a"}]});
        let r = parse_bulk_request(&body, 10).unwrap();
        assert_eq!(r.fail_on_errors, Some(1));
        assert_eq!(r.operations[1].method, BulkMethod::Patch);
        assert_eq!(r.operations[2].id.as_deref(), Some("bulkId:a"));
        assert_eq!(
            parse_bulk_request(&body, 2).unwrap_err().kind.as_str(),
            "tooMany"
        );
        let bad = json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "path": "/Users"}]});
        assert!(parse_bulk_request(&bad, 10).is_err());
        assert!(parse_bulk_request(&json!({"Operations": []}), 10).is_err());
    }

    #[test]
    fn resolves_bulk_ids_everywhere() {
        let created = HashMap::from([("u1".to_string(), "real-1".to_string())]);
        let mut v = json!({"members": [{"value": "bulkId:u1"}], "x": "bulkId:"});
        assert!(resolve_refs(&mut v, &created).is_err());
        let mut v = json!({"members": [{"value": "bulkId:u1"}]});
        resolve_refs(&mut v, &created).unwrap();
        assert_eq!(v["members"][0]["value"], "real-1");
    }
}
