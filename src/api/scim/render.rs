//! Domain views to SCIM JSON: `id`, `meta`, `groups`, `members` and the seat extension are
//! added here, on top of the resource the client wrote.

use chrono::{NaiveDateTime, SecondsFormat};
use serde_json::{json, Map, Value};

use crate::domain::etag;
use crate::domain::groups::GroupView;
use crate::domain::users::UserView;
use crate::scim::schema::{CORE_GROUP, CORE_USER, SEAT_USER};

pub fn timestamp(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
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
    version: i64,
) -> Value {
    json!({
        "resourceType": kind,
        "created": timestamp(created),
        "lastModified": timestamp(modified),
        "location": location,
        "version": etag(version),
    })
}

pub fn user(v: &UserView, base: &str) -> Value {
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
            row.version,
        ),
    );
    Value::Object(m)
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
                o.insert("$ref".into(), json!(format!("{base}/{path}/{}", mem.id)));
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
            format!("{base}/Groups/{}", row.id),
            row.created_at,
            row.updated_at,
            row.version,
        ),
    );
    Value::Object(m)
}
