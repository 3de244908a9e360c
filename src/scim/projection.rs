//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) applied to a canonical
//! resource JSON, with the schema's `returned` rules: `always` is kept whatever was asked,
//! `never` (password) is always dropped, `request` only appears when asked for by name.
//!
//! Names may be dotted (`name.givenName`) or URN-qualified, in any case; a bare extension URN
//! means the whole extension. Names that resolve to nothing are ignored. Keys of the resource
//! that the schema does not describe are not returned.

use serde_json::{Map, Value};

use crate::scim::filter::eval::get_ci;
use crate::scim::schema::{AttrDef, ResourceSchema, Returned};

/// Applies the projection. If both lists are given, `attributes` wins (RFC 7644 §3.9 allows
/// only one; honouring the positive list returns the least surprising result).
pub fn project(
    resource: &Value,
    rs: &ResourceSchema,
    attributes: &[String],
    excluded: &[String],
) -> Value {
    let mode = Mode::new(rs, attributes, excluded);
    let mut out = Map::new();
    if let Some(s) = get_ci(resource, "schemas") {
        out.insert("schemas".into(), s.clone());
    }
    for schema in rs.schemas() {
        let is_core = schema.id == rs.core.id;
        let container = if is_core {
            Some(resource)
        } else {
            get_ci(resource, schema.id)
        };
        let Some(container) = container.filter(|c| c.is_object()) else {
            continue;
        };
        let mut picked = Map::new();
        for def in &schema.attributes {
            let Some(v) = get_ci(container, def.name) else {
                continue;
            };
            if let Some(v) = mode.project_attr(schema.id, def, v) {
                picked.insert(def.name.to_string(), v);
            }
        }
        if is_core {
            out.extend(picked);
        } else if !picked.is_empty() {
            out.insert(schema.id.to_string(), Value::Object(picked));
        }
    }
    Value::Object(out)
}

/// Whether any part of attribute `name` (e.g. `members`, `emails.value`, an extension URN)
/// would be in the projected response, so the caller can skip loading it at all.
pub fn wants_attribute(
    rs: &ResourceSchema,
    attributes: &[String],
    excluded: &[String],
    name: &str,
) -> bool {
    let mode = Mode::new(rs, attributes, excluded);
    let name = name.trim();
    if name.eq_ignore_ascii_case("schemas") {
        return true;
    }
    if let Some(ext) = rs.extension(name) {
        return ext.attributes.iter().any(|d| mode.wants(ext.id, d, None));
    }
    match rs.resolve(name) {
        Some(r) => mode.wants(r.schema, r.attr, r.sub),
        None => false,
    }
}

/// What one list entry selects.
#[derive(Debug, Clone, PartialEq)]
enum Pick {
    /// All of an extension.
    Extension(&'static str),
    /// An attribute (schema, name), or one of its sub-attributes.
    Attr(&'static str, &'static str, Option<&'static str>),
}

/// How much of one attribute a list names.
enum Part {
    All,
    Subs(Vec<&'static str>),
    Nothing,
}

enum Mode {
    Default,
    Include(Vec<Pick>),
    Exclude(Vec<Pick>),
}

impl Mode {
    fn new(rs: &ResourceSchema, attributes: &[String], excluded: &[String]) -> Self {
        let inc = picks(rs, attributes);
        if !attributes.is_empty() {
            return Mode::Include(inc);
        }
        let exc = picks(rs, excluded);
        if exc.is_empty() {
            Mode::Default
        } else {
            Mode::Exclude(exc)
        }
    }

    fn project_attr(&self, schema: &'static str, def: &AttrDef, v: &Value) -> Option<Value> {
        let plain = |v: &Value| {
            keep_subs(def, v, |s| {
                s.returned == Returned::Always || s.returned == Returned::Default
            })
        };
        match (def.returned, self) {
            (Returned::Never, _) => None,
            (Returned::Always, _) => Some(plain(v)),
            (_, Mode::Include(p)) => match part(p, schema, def.name) {
                Part::All => Some(keep_subs(def, v, |s| s.returned != Returned::Never)),
                Part::Subs(subs) => Some(keep_subs(def, v, |s| {
                    s.returned == Returned::Always
                        || (s.returned != Returned::Never && subs.contains(&s.name))
                })),
                Part::Nothing => None,
            },
            (Returned::Request, _) => None,
            (_, Mode::Default) => Some(plain(v)),
            (_, Mode::Exclude(p)) => match part(p, schema, def.name) {
                Part::All => None,
                Part::Subs(subs) => Some(keep_subs(def, v, |s| {
                    s.returned == Returned::Always
                        || (s.returned == Returned::Default && !subs.contains(&s.name))
                })),
                Part::Nothing => Some(plain(v)),
            },
        }
        .filter(|v| !is_empty_container(v))
    }

    fn wants(&self, schema: &'static str, def: &AttrDef, sub: Option<&AttrDef>) -> bool {
        if def.returned == Returned::Never || sub.is_some_and(|s| s.returned == Returned::Never) {
            return false;
        }
        if def.returned == Returned::Always {
            return true;
        }
        match self {
            Mode::Include(p) => match part(p, schema, def.name) {
                Part::All => true,
                Part::Subs(subs) => sub.is_none_or(|s| subs.contains(&s.name)),
                Part::Nothing => false,
            },
            _ if def.returned == Returned::Request => false,
            Mode::Default => true,
            Mode::Exclude(p) => match part(p, schema, def.name) {
                Part::All => false,
                Part::Subs(subs) => sub.is_none_or(|s| !subs.contains(&s.name)),
                Part::Nothing => true,
            },
        }
    }
}

/// Resolves list entries; entries may themselves be comma-separated (raw query values).
fn picks(rs: &ResourceSchema, names: &[String]) -> Vec<Pick> {
    names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .filter_map(|n| match rs.extension(n) {
            Some(ext) => Some(Pick::Extension(ext.id)),
            None => rs
                .resolve(n)
                .map(|r| Pick::Attr(r.schema, r.attr.name, r.sub.map(|s| s.name))),
        })
        .collect()
}

fn part(picks: &[Pick], schema: &'static str, attr: &'static str) -> Part {
    let mut subs = Vec::new();
    for p in picks {
        match p {
            Pick::Extension(id) if *id == schema => return Part::All,
            Pick::Attr(s, a, None) if *s == schema && *a == attr => return Part::All,
            Pick::Attr(s, a, Some(sub)) if *s == schema && *a == attr => subs.push(*sub),
            _ => {}
        }
    }
    if subs.is_empty() {
        Part::Nothing
    } else {
        Part::Subs(subs)
    }
}

/// For complex values (or lists of them), keeps the sub-attributes `keep` accepts; elements
/// left empty are dropped. Simple values pass through.
fn keep_subs(def: &AttrDef, v: &Value, keep: impl Fn(&AttrDef) -> bool + Copy) -> Value {
    if def.sub_attributes.is_empty() {
        return v.clone();
    }
    match v {
        Value::Object(o) => Value::Object(filter_object(def, o, keep)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| match i {
                    Value::Object(o) => Value::Object(filter_object(def, o, keep)),
                    other => other.clone(),
                })
                .filter(|i| !is_empty_container(i))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn filter_object(
    def: &AttrDef,
    o: &Map<String, Value>,
    keep: impl Fn(&AttrDef) -> bool,
) -> Map<String, Value> {
    o.iter()
        .filter(|(k, _)| def.sub(k).is_some_and(&keep))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Registry, CORE_USER, ENTERPRISE_USER, SEAT_USER};
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "schemas": [CORE_USER, ENTERPRISE_USER, SEAT_USER],
            "id": "u-1",
            "externalId": "ext-1",
            "userName": "bjensen",
            "password": "hunter2",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": true,
            "emails": [{"value": "bj@example.com", "type": "work", "primary": true},
                       {"value": "b@home.org", "type": "home"}],
            "meta": {"resourceType": "User", "lastModified": "2020-01-01T00:00:00Z", "version": "W/\"1\""},
            ENTERPRISE_USER: {"department": "Sales", "manager": {"value": "m-1"}},
            SEAT_USER: {"status": "active", "tier": "premium"},
            "notInSchema": 1
        })
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn p(attrs: &[&str], excl: &[&str]) -> Value {
        project(&doc(), &Registry::get().user, &s(attrs), &s(excl))
    }

    #[test]
    fn default_drops_never_and_unknown() {
        let d = p(&[], &[]);
        assert!(d.get("password").is_none());
        assert!(d.get("notInSchema").is_none());
        assert_eq!(d["userName"], "bjensen");
        assert_eq!(d[ENTERPRISE_USER]["department"], "Sales");
        assert_eq!(d[SEAT_USER]["tier"], "premium");
        assert_eq!(d["emails"], doc()["emails"]);
    }

    #[test]
    fn attributes_keep_only_asked_plus_always() {
        let d = p(&["USERNAME"], &[]);
        assert_eq!(
            d,
            json!({"schemas": doc()["schemas"], "id": "u-1", "userName": "bjensen"})
        );
        let d = p(&["password", "userName"], &[]);
        assert!(d.get("password").is_none());
    }

    #[test]
    fn sub_attribute_selection() {
        let d = p(
            &["name.givenName", "emails.value", "meta.lastModified"],
            &[],
        );
        assert_eq!(d["name"], json!({"givenName": "Barbara"}));
        assert_eq!(
            d["emails"],
            json!([{"value": "bj@example.com"}, {"value": "b@home.org"}])
        );
        assert_eq!(d["meta"], json!({"lastModified": "2020-01-01T00:00:00Z"}));
        assert!(d.get("userName").is_none());
    }

    #[test]
    fn urn_qualified_and_whole_extension() {
        let d = p(&[&format!("{ENTERPRISE_USER}:department")], &[]);
        assert_eq!(d[ENTERPRISE_USER], json!({"department": "Sales"}));
        assert!(d.get(SEAT_USER).is_none());
        let d = p(&[&SEAT_USER.to_uppercase()], &[]);
        assert_eq!(d[SEAT_USER], json!({"status": "active", "tier": "premium"}));
        let d = p(
            &["urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"],
            &[],
        );
        assert_eq!(d["name"], json!({"familyName": "Jensen"}));
        let d = p(&[&format!("{ENTERPRISE_USER}:manager.value")], &[]);
        assert_eq!(d[ENTERPRISE_USER], json!({"manager": {"value": "m-1"}}));
    }

    #[test]
    fn excluded_attributes() {
        let d = p(
            &[],
            &["emails", "name.familyName", "id", ENTERPRISE_USER, "nope"],
        );
        assert!(d.get("emails").is_none());
        assert_eq!(d["name"], json!({"givenName": "Barbara"}));
        assert_eq!(d["id"], "u-1", "returned:always cannot be excluded");
        assert!(d.get(ENTERPRISE_USER).is_none());
        assert_eq!(d["userName"], "bjensen");
        assert!(d.get("password").is_none());
        let d = p(&[], &["emails.type", "name.givenName,name.familyName"]);
        assert_eq!(
            d["emails"],
            json!([{"value": "bj@example.com", "primary": true}, {"value": "b@home.org"}])
        );
        assert!(
            d.get("name").is_none(),
            "an attribute with nothing left is omitted"
        );
    }

    #[test]
    fn attributes_win_over_excluded() {
        let d = p(&["emails"], &["emails"]);
        assert_eq!(d["emails"], doc()["emails"]);
        assert!(d.get("userName").is_none());
    }

    #[test]
    fn comma_separated_entries() {
        let d = p(&["userName, active"], &[]);
        assert_eq!(d["active"], true);
        assert_eq!(d["userName"], "bjensen");
    }

    #[test]
    fn group_members_can_be_skipped() {
        let g = &Registry::get().group;
        let none: &[String] = &[];
        assert!(wants_attribute(g, none, none, "members"));
        assert!(!wants_attribute(g, none, &s(&["members"]), "members"));
        assert!(!wants_attribute(g, none, &s(&["Members"]), "MEMBERS"));
        assert!(wants_attribute(
            g,
            none,
            &s(&["members.display"]),
            "members"
        ));
        assert!(!wants_attribute(g, &s(&["displayName"]), none, "members"));
        assert!(wants_attribute(g, &s(&["members.value"]), none, "members"));
        assert!(wants_attribute(g, &s(&["displayName"]), none, "id"));
        assert!(wants_attribute(g, &s(&["displayName"]), none, "schemas"));
        let gd = json!({"schemas": [crate::scim::schema::CORE_GROUP], "id": "g", "displayName": "S",
                        "members": [{"value": "u1", "display": "B"}]});
        assert_eq!(
            project(&gd, g, none, &s(&["members"])),
            json!({"schemas": gd["schemas"], "id": "g", "displayName": "S"})
        );
    }

    #[test]
    fn wants_attribute_user_rules() {
        let u = &Registry::get().user;
        let none: &[String] = &[];
        assert!(!wants_attribute(u, none, none, "password"));
        assert!(!wants_attribute(u, &s(&["password"]), none, "password"));
        assert!(wants_attribute(u, none, none, "emails.value"));
        assert!(wants_attribute(
            u,
            &s(&["emails.value"]),
            none,
            "emails.value"
        ));
        assert!(!wants_attribute(
            u,
            &s(&["emails.value"]),
            none,
            "emails.type"
        ));
        assert!(!wants_attribute(
            u,
            none,
            &s(&["emails.type"]),
            "emails.type"
        ));
        assert!(wants_attribute(u, &s(&[SEAT_USER]), none, SEAT_USER));
        assert!(!wants_attribute(u, &s(&["userName"]), none, SEAT_USER));
        assert!(!wants_attribute(u, none, none, "nope"));
    }
}
