//! In-memory evaluation of a [`TypedFilter`] against a canonical resource JSON (core attributes
//! at the top level, extension attributes under their schema URN). Used for PATCH value
//! filters and tests; list queries are translated to SQL instead.
//!
//! Semantics: a multi-valued path matches if any of its values does; `ne` is "no value equals"
//! (so an absent attribute is `ne` anything); `eq null` means "has no value".

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{CompValue, CompareOp};
use super::validate::{TypedAttr, TypedFilter};
use crate::scim::schema::AttrType;

pub fn matches(f: &TypedFilter, resource: &Value) -> bool {
    eval(f, Ctx::Root(resource))
}

/// Evaluates the inner filter of a value path (`emails[type eq "work"]`) against one element
/// of the multi-valued attribute, e.g. `{"type": "work", "value": "a@b.c"}`.
pub fn matches_element(inner: &TypedFilter, element: &Value) -> bool {
    eval(inner, Ctx::Elem(element))
}

/// Whether paths are looked up from the resource, or inside one element of a value filter.
#[derive(Clone, Copy)]
enum Ctx<'a> {
    Root(&'a Value),
    Elem(&'a Value),
}

fn eval(f: &TypedFilter, ctx: Ctx<'_>) -> bool {
    match f {
        TypedFilter::And(l, r) => eval(l, ctx) && eval(r, ctx),
        TypedFilter::Or(l, r) => eval(l, ctx) || eval(r, ctx),
        TypedFilter::Not(x) => !eval(x, ctx),
        TypedFilter::Present(a) => values(ctx, a).into_iter().any(is_present),
        TypedFilter::Compare { attr, op, value } => compare(attr, *op, value, &values(ctx, attr)),
        TypedFilter::ValuePath { attr, filter } => {
            let Ctx::Root(root) = ctx else { return false };
            top_values(root, attr)
                .into_iter()
                .any(|elem| eval(filter, Ctx::Elem(elem)))
        }
    }
}

/// Object member by name, preferring the exact key and falling back to any case.
pub(crate) fn get_ci<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Arrays contribute their elements, null contributes nothing.
fn flatten(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(items)) => items.iter().filter(|x| !x.is_null()).collect(),
        Some(other) => vec![other],
    }
}

fn top_values<'a>(root: &'a Value, a: &TypedAttr) -> Vec<&'a Value> {
    let base = if a.is_core {
        Some(root)
    } else {
        get_ci(root, a.schema)
    };
    flatten(base.and_then(|b| get_ci(b, a.attr)))
}

fn values<'a>(ctx: Ctx<'a>, a: &TypedAttr) -> Vec<&'a Value> {
    match (ctx, a.sub) {
        (Ctx::Root(root), None) => top_values(root, a),
        (Ctx::Root(root), Some(sub)) => top_values(root, a)
            .into_iter()
            .flat_map(|item| flatten(get_ci(item, sub)))
            .collect(),
        (Ctx::Elem(elem), Some(sub)) => flatten(get_ci(elem, sub)),
        (Ctx::Elem(elem), None) => vec![elem],
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(a: &TypedAttr, op: CompareOp, want: &CompValue, vals: &[&Value]) -> bool {
    match (op, want) {
        (CompareOp::Eq, CompValue::Null) => vals.is_empty(),
        (CompareOp::Ne, CompValue::Null) => !vals.is_empty(),
        (CompareOp::Ne, _) => !vals.iter().any(|v| compare_one(a, CompareOp::Eq, want, v)),
        _ => vals.iter().any(|v| compare_one(a, op, want, v)),
    }
}

fn compare_one(a: &TypedAttr, op: CompareOp, want: &CompValue, v: &Value) -> bool {
    if op.is_substring() {
        return substring(a, op, want, v);
    }
    let Some(ord) = order(a, want, v) else {
        return false;
    };
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn fold(a: &TypedAttr, s: &str) -> String {
    if a.case_exact {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn substring(a: &TypedAttr, op: CompareOp, want: &CompValue, v: &Value) -> bool {
    let (CompValue::Str(w), Some(s)) = (want, v.as_str()) else {
        return false;
    };
    let (w, s) = (fold(a, w), fold(a, s));
    match op {
        CompareOp::Co => s.contains(&w),
        CompareOp::Sw => s.starts_with(&w),
        CompareOp::Ew => s.ends_with(&w),
        _ => false,
    }
}

/// How the stored value `v` orders relative to the filter value; `None` if incomparable.
fn order(a: &TypedAttr, want: &CompValue, v: &Value) -> Option<Ordering> {
    match (a.ty, want) {
        (AttrType::DateTime, CompValue::Str(w)) => {
            let w = chrono::DateTime::parse_from_rfc3339(w).ok()?;
            let v = chrono::DateTime::parse_from_rfc3339(v.as_str()?).ok()?;
            Some(v.cmp(&w))
        }
        (_, CompValue::Str(w)) => Some(fold(a, v.as_str()?).cmp(&fold(a, w))),
        (_, CompValue::Bool(w)) => Some(v.as_bool()?.cmp(w)),
        (_, CompValue::Num(w)) => {
            let v = v.as_number()?;
            match (v.as_i64(), w.as_i64()) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => v.as_f64()?.partial_cmp(&w.as_f64()?),
            }
        }
        (_, CompValue::Null) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::{parse_filter, validate};
    use crate::scim::schema::Registry;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223",
            "userName": "BJensen@example.com",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "title": "",
            "userType": "Employee",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2011-05-13T04:42:34Z", "created": "2010-01-23T04:56:22Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "department": "Sales", "manager": {"value": "m-1"}
            },
            "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User": {"queuePosition": 3}
        })
    }

    fn m(s: &str) -> bool {
        let f = validate(&parse_filter(s).unwrap(), &Registry::get().user)
            .unwrap_or_else(|e| panic!("{s}: {e}"));
        matches(&f, &user())
    }

    #[test]
    fn strings_respect_case_exactness() {
        assert!(m(r#"userName eq "bjensen@EXAMPLE.com""#));
        assert!(m(r#"name.familyName co "o'mal""#));
        assert!(m(r#"userName sw "bj""#));
        assert!(m(r#"userName ew ".COM""#));
        assert!(!m(r#"userName ew ".org""#));
        assert!(m(r#"id eq "2819c223""#));
        assert!(!m(r#"id eq "2819C223""#)); // id is caseExact
        assert!(m(r#"userName gt "a" and userName lt "c""#));
    }

    #[test]
    fn multi_valued_any_element() {
        assert!(m(r#"emails co "jensen.org""#));
        assert!(m(r#"emails.type eq "home""#));
        assert!(m(r#"emails.value ew "example.com""#));
        assert!(!m(r#"emails.type eq "other""#));
        assert!(m(r#"emails[type eq "work" and value co "@example.com"]"#));
        assert!(!m(r#"emails[type eq "home" and value co "@example.com"]"#));
        assert!(m(r#"emails[type eq "home" or primary eq true]"#));
        assert!(m(r#"emails[not (type eq "work")]"#));
        assert!(m(
            r#"schemas eq "URN:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
        ));
    }

    #[test]
    fn presence() {
        assert!(!m("title pr")); // empty string is not present
        assert!(m("userType pr"));
        assert!(m("emails pr"));
        assert!(m("name pr"));
        assert!(!m("nickName pr"));
        assert!(!m("phoneNumbers pr"));
        assert!(m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"
        ));
        assert!(!m(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter pr"
        ));
    }

    #[test]
    fn booleans_numbers_nulls() {
        assert!(m("active eq true"));
        assert!(m(r#"active eq "TRUE""#));
        assert!(!m("active ne true"));
        let q = "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User:queuePosition";
        assert!(m(&format!(
            "{q} ge 3 and {q} lt 4 and {q} gt 2 and {q} le 3"
        )));
        assert!(!m(&format!("{q} gt 3")));
        assert!(m("nickName eq null"));
        assert!(!m("userName eq null"));
        assert!(m("userName ne null"));
        assert!(m(r#"nickName ne "x""#)); // absent is "not equal"
    }

    #[test]
    fn date_times_compare_as_instants() {
        assert!(m(r#"meta.lastModified gt "2011-05-13T04:42:33Z""#));
        assert!(m(r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#));
        assert!(m(r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#));
        assert!(!m(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#));
        assert!(m(r#"meta.lastModified le "2011-05-13T04:42:34.000Z""#));
        assert!(m(r#"meta.created lt "2011-05-13T04:42:34Z""#));
    }

    #[test]
    fn extension_and_logic() {
        assert!(m(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#
        ));
        assert!(m(
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#
        ));
        assert!(!m(
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#
        ));
        assert!(m(r#"title pr or userType eq "Employee""#));
        assert!(!m(r#"title pr and userType eq "Employee""#));
    }

    #[test]
    fn odd_resources_do_not_panic() {
        let f = validate(&parse_filter(r#"emails[type eq "work"] or name.givenName eq "x" or meta.created gt "2020-01-01T00:00:00Z""#).unwrap(), &Registry::get().user).unwrap();
        for r in [
            json!(null),
            json!([]),
            json!("x"),
            json!({"emails": "x", "name": [1, 2], "meta": {"created": 5}}),
        ] {
            assert!(!matches(&f, &r));
        }
    }
}
