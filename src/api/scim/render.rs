//! Domain views to SCIM JSON: `id`, `meta`, `groups`, `members` and the seat extension are
//! added here, on top of the resource the client wrote.

use std::borrow::Cow;

use chrono::{NaiveDateTime, SecondsFormat};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::domain::groups::GroupView;
use crate::domain::users::UserView;
use crate::domain::Version;
use crate::scim::datetime::put_digits;
use crate::scim::schema::{CORE_GROUP, CORE_USER, SEAT_USER};

/// An RFC 3339 UTC timestamp with microseconds, as SCIM `meta` dates are written.
pub fn timestamp(t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(27);
    push_timestamp(&mut out, t);
    out
}

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn meta(
    kind: &str,
    location: String,
    created: NaiveDateTime,
    modified: NaiveDateTime,
    version: Version,
) -> Value {
    json!({
        "resourceType": kind,
        "created": timestamp(created),
        "lastModified": timestamp(modified),
        "location": location,
        "version": version.etag(),
    })
}

/// A resource's `meta.location`.
pub fn location(base: &str, endpoint: &str, id: &str) -> String {
    let mut out = String::with_capacity(base.len() + endpoint.len() + id.len() + 2);
    for part in [base, "/", endpoint, "/", id] {
        out.push_str(part);
    }
    out
}

/// A user as SCIM JSON text, written from the stored resource without building a
/// `serde_json::Value` of it: the stored top-level values are copied as they are, and the
/// attributes the server owns are written beside them. Keys come out sorted, as `Value`
/// would write them, so the text is the same as rendering through `Value` (a test checks).
/// On a page of 100 users this was most of the work of the request.
pub fn user_text(v: &UserView, base: &str) -> String {
    let mut out = String::with_capacity(v.row.resource.len() + 640);
    user_text_into(&mut out, v, base);
    out
}

/// `user_text` appended to `out`: a page writes every user into one buffer.
pub fn user_text_into(out: &mut String, v: &UserView, base: &str) {
    let row = &v.row;
    let stored = StoredFields::parse(&row.resource);
    let owned = |k: &str| matches!(k, "id" | "groups" | "schemas" | "meta") || k == SEAT_USER;
    let mut parts: Vec<(&str, Part<'_>)> = Vec::with_capacity(stored.0.len() + 5);
    parts.extend(
        stored
            .iter()
            .filter(|(k, _)| !owned(k))
            .map(|(k, v)| (k, Part::Stored(v))),
    );
    parts.push(("id", Part::Id));
    if !v.groups.is_empty() {
        parts.push(("groups", Part::Groups));
    }
    parts.push((SEAT_USER, Part::Seat));
    parts.push(("schemas", Part::Schemas(stored.get("schemas"))));
    parts.push(("meta", Part::Meta));
    parts.sort_unstable_by(|a, b| a.0.cmp(b.0));

    out.push('{');
    for (i, (key, part)) in parts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str(out, key);
        out.push(':');
        match part {
            Part::Stored(value) => out.push_str(value),
            Part::Id => push_str(out, &row.id),
            Part::Groups => push_groups(out, base, &v.groups),
            Part::Seat => push_seat(out, v),
            Part::Schemas(stored) => push_schemas(out, *stored),
            Part::Meta => push_user_meta(out, base, row, v.version()),
        }
    }
    out.push('}');
}

/// One top-level member of a rendered user: copied from the stored resource, or written
/// by the server.
enum Part<'a> {
    Stored(&'a str),
    Id,
    Groups,
    Seat,
    Schemas(Option<&'a str>),
    Meta,
}

/// The user's groups, keys in sorted order: $ref, display, type, value.
fn push_groups(out: &mut String, base: &str, groups: &[(String, String)]) {
    out.push('[');
    for (i, (id, name)) in groups.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"$ref\":");
        push_location(out, base, "Groups", id);
        out.push_str(",\"display\":");
        push_str(out, name);
        out.push_str(",\"type\":\"direct\",\"value\":");
        push_str(out, id);
        out.push('}');
    }
    out.push(']');
}

/// Seat extension, keys sorted: pendingSince, queuePosition, status, tier.
fn push_seat(out: &mut String, v: &UserView) {
    use std::fmt::Write;
    let row = &v.row;
    out.push('{');
    if let Some(since) = row.pending_since {
        out.push_str("\"pendingSince\":\"");
        push_timestamp(out, since);
        out.push_str("\",");
    }
    if let Some(pos) = v.queue_position {
        let _ = write!(out, "\"queuePosition\":{pos},");
    }
    out.push_str("\"status\":");
    push_str(out, &row.seat_status);
    if let Some(tier) = &row.seat_tier {
        out.push_str(",\"tier\":");
        push_str(out, tier);
    }
    out.push('}');
}

/// The stored `schemas` (or the core schema when there are none) and the seat extension.
fn push_schemas(out: &mut String, stored: Option<&str>) {
    let elements = stored.and_then(|raw| serde_json::from_str::<Vec<&RawValue>>(raw).ok());
    out.push('[');
    match elements {
        Some(elements) => {
            for e in elements {
                push_canonical(out, e.get());
                out.push(',');
            }
        }
        None => {
            push_str(out, CORE_USER);
            out.push(',');
        }
    }
    push_str(out, SEAT_USER);
    out.push(']');
}

/// A stored JSON value as serde_json writes it. A string without escapes already is; any
/// other value is written again through `Value`, as the stored text might not be.
fn push_canonical(out: &mut String, raw: &str) {
    if raw.starts_with('"') && !raw.contains('\\') {
        out.push_str(raw);
    } else if let Ok(value) = serde_json::from_str::<Value>(raw) {
        out.push_str(&value.to_string());
    }
}

/// meta, keys sorted: created, lastModified, location, resourceType, version.
fn push_user_meta(
    out: &mut String,
    base: &str,
    row: &crate::store::users::UserRow,
    version: Version,
) {
    use std::fmt::Write;
    out.push_str("{\"created\":\"");
    push_timestamp(out, row.created_at);
    out.push_str("\",\"lastModified\":\"");
    push_timestamp(out, row.updated_at);
    out.push_str("\",\"location\":");
    push_location(out, base, "Users", &row.id);
    // `version.etag()` as a JSON string: "W/\"N\"" (a pending user's "W/\"N.P\"").
    let _ = write!(
        out,
        ",\"resourceType\":\"User\",\"version\":\"W/\\\"{version}\\\"\"}}"
    );
}

/// `location(base, endpoint, id)` as a JSON string.
fn push_location(out: &mut String, base: &str, endpoint: &str, id: &str) {
    if needs_no_escape(base) && needs_no_escape(id) {
        out.push('"');
        out.push_str(base);
        out.push('/');
        out.push_str(endpoint);
        out.push('/');
        out.push_str(id);
        out.push('"');
    } else {
        push_str(out, &location(base, endpoint, id));
    }
}

/// The top-level members of a stored resource, values as raw JSON text borrowed from it. A
/// stored resource is an object written by serde_json; anything else renders as an empty
/// object, as it did when it was parsed whole.
struct StoredFields<'a>(Vec<(Key<'a>, &'a RawValue)>);

impl<'a> StoredFields<'a> {
    fn parse(text: &'a str) -> StoredFields<'a> {
        serde_json::from_str(text).unwrap_or(StoredFields(Vec::new()))
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.0.as_ref(), v.get()))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl<'de> serde::Deserialize<'de> for StoredFields<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = StoredFields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(12));
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(StoredFields(members))
            }
        }
        d.deserialize_map(Members)
    }
}

/// A member name: borrowed from the text, or unescaped into a copy when it had escapes
/// (never a name SCIM defines).
struct Key<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl<'de> serde::de::Visitor<'de> for Name {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(Name)
    }
}

/// Whether `text` goes into a JSON string as it is (no control character, quote or backslash).
fn needs_no_escape(text: &str) -> bool {
    text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// `"text"` as a JSON string, escaped only when it has to be.
fn push_str(out: &mut String, text: &str) {
    if needs_no_escape(text) {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&json_text(text));
    }
}

/// `timestamp(t)` written into `out`: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, without chrono's
/// general formatter (up to four of these per user on every page).
fn push_timestamp(out: &mut String, t: NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        out.push_str(&t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true));
        return;
    }
    let mut buf = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut buf, 0, 4, year as u32);
    put_digits(&mut buf, 5, 2, t.month());
    put_digits(&mut buf, 8, 2, t.day());
    put_digits(&mut buf, 11, 2, t.hour());
    put_digits(&mut buf, 14, 2, t.minute());
    // A leap second is stored as second 59 plus over a second of nanoseconds.
    let nanos = t.nanosecond();
    put_digits(&mut buf, 17, 2, t.second() + nanos / 1_000_000_000);
    put_digits(&mut buf, 20, 6, (nanos % 1_000_000_000) / 1_000);
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// `user_text` as a value, for the rare answers that are projected (`attributes=…`).
pub fn user(v: &UserView, base: &str) -> Value {
    serde_json::from_str(&user_text(v, base)).unwrap_or(Value::Null)
}

/// Compact JSON text of a value that always serializes (strings, maps of strings, …).
fn json_text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub fn group(v: &GroupView, base: &str) -> Value {
    let row = &v.row;
    let mut m = parse_object(&row.resource);
    m.insert("id".into(), json!(row.id));
    if !m.contains_key("schemas") {
        m.insert("schemas".into(), json!([CORE_GROUP]));
    }
    if let Some(members) = &v.members {
        let list: Vec<Value> = members
            .iter()
            .map(|mem| {
                let path = if mem.kind == "Group" {
                    "Groups"
                } else {
                    "Users"
                };
                let mut o = Map::new();
                o.insert("value".into(), json!(mem.id));
                o.insert("$ref".into(), json!(location(base, path, &mem.id)));
                o.insert("type".into(), json!(mem.kind));
                Value::Object(o)
            })
            .collect();
        m.insert("members".into(), Value::Array(list));
    }
    m.insert(
        "meta".into(),
        meta(
            "Group",
            location(base, "Groups", &row.id),
            row.created_at,
            row.updated_at,
            v.version(),
        ),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::UserRow;

    /// The renderer `user_text` replaced: the resource parsed whole into a `Value`.
    fn user_by_value(v: &UserView, base: &str) -> Value {
        let row = &v.row;
        let mut m = parse_object(&row.resource);
        m.insert("id".into(), json!(row.id));
        if !v.groups.is_empty() {
            let groups: Vec<Value> = v
                .groups
                .iter()
                .map(|(id, name)| {
                    json!({"value": id, "display": name, "$ref": format!("{base}/Groups/{id}"), "type": "direct"})
                })
                .collect();
            m.insert("groups".into(), Value::Array(groups));
        }
        let mut seat = Map::new();
        seat.insert("status".into(), json!(row.seat_status));
        if let Some(tier) = &row.seat_tier {
            seat.insert("tier".into(), json!(tier));
        }
        if let Some(since) = row.pending_since {
            seat.insert("pendingSince".into(), json!(timestamp(since)));
        }
        if let Some(pos) = v.queue_position {
            seat.insert("queuePosition".into(), json!(pos));
        }
        m.insert(SEAT_USER.into(), Value::Object(seat));
        let mut schemas: Vec<Value> = match m.remove("schemas") {
            Some(Value::Array(a)) => a,
            _ => vec![json!(CORE_USER)],
        };
        schemas.push(json!(SEAT_USER));
        m.insert("schemas".into(), Value::Array(schemas));
        m.insert(
            "meta".into(),
            meta(
                "User",
                format!("{base}/Users/{}", row.id),
                row.created_at,
                row.updated_at,
                v.version(),
            ),
        );
        Value::Object(m)
    }

    fn view(resource: &str, pending: bool, groups: Vec<(String, String)>) -> UserView {
        let t = chrono::DateTime::from_timestamp(1_790_000_000, 123_456_000)
            .map(|d| d.naive_utc())
            .expect("a valid instant");
        UserView {
            row: UserRow {
                id: "0193-u\"1".into(),
                org_id: "acme".into(),
                user_name: "bjensen".into(),
                user_name_norm: "bjensen".into(),
                external_id: None,
                display_name: None,
                active: true,
                seat_status: if pending { "pending" } else { "active" }.into(),
                seat_tier: (!pending).then(|| "premium".into()),
                seated_at: (!pending).then_some(t),
                pending_since: pending.then_some(t),
                queue_seq: pending.then_some(7),
                source: "scim".into(),
                resource: resource.into(),
                version: 3,
                created_at: t,
                updated_at: t,
            },
            groups,
            queue_position: pending.then_some(2),
        }
    }

    #[test]
    fn timestamps_are_written_as_chrono_writes_them() {
        let mut secs: i64 = 0;
        for i in 0..2_000i64 {
            // Spread over 1970..2300, with every kind of sub-second part.
            secs = (secs + 5_196_817 * (i + 1)) % 10_400_000_000;
            let nanos = ((i * 7_919_111) % 1_000_000_000) as u32;
            for n in [0, nanos, nanos / 1_000 * 1_000, 999_999_999] {
                let t = chrono::DateTime::from_timestamp(secs, n)
                    .expect("in range")
                    .naive_utc();
                assert_eq!(
                    timestamp(t),
                    t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
                );
            }
        }
    }

    #[test]
    fn user_text_writes_what_the_value_renderer_wrote() {
        let stored = [
            // As `normalize` stores it: compact, keys sorted.
            r#"{"active":true,"emails":[{"primary":true,"type":"work","value":"b@example.com"}],"name":{"familyName":"Jensen","givenName":"Barbara"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},"userName":"bjensen"}"#,
            // No schemas, a key that needs escaping, unicode and escapes in values.
            r#"{"displayName":"Ünïcode \"quoted\" \\ \u0001","odd\"key":1,"userName":"x"}"#,
            // Stored schemas that are not as serde_json writes them: an escape, an object.
            r#"{"schemas":["urn:\u0061",{"b":1,"a":2}],"userName":"y"}"#,
            // Stored schemas that are not an array.
            r#"{"schemas":"urn:x","userName":"z"}"#,
            // Not an object: rendered from the row alone.
            r#"[1,2]"#,
            "",
        ];
        let groups = vec![
            ("g1".to_string(), "Admins \"A\"".to_string()),
            ("g2".to_string(), "Ops".to_string()),
        ];
        for resource in stored {
            for (pending, groups) in [(false, vec![]), (true, groups.clone())] {
                let v = view(resource, pending, groups);
                let expected = serde_json::to_string(&user_by_value(&v, "https://h/scim/v2"))
                    .expect("serializes");
                assert_eq!(user_text(&v, "https://h/scim/v2"), expected, "{resource}");
                assert_eq!(
                    user(&v, "https://h/scim/v2"),
                    user_by_value(&v, "https://h/scim/v2")
                );
                // A pending user's version holds its queue position.
                let version = if pending { "W/\"3.2\"" } else { "W/\"3\"" };
                assert_eq!(user(&v, "https://h/scim/v2")["meta"]["version"], version);
            }
        }
    }
}
