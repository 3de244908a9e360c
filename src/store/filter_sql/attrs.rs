//! Where an attribute's values live: a column of the resource's table, a leaf of its stored
//! JSON, or the rows or JSON array elements of a multi-valued attribute. Shared by the
//! predicates and the sort keys.

use super::{unsupported, Translator};
use crate::error::Error;
use crate::scim::filter::{TypedAttr, TypedFilter};
use crate::scim::schema::{AttrType, SEAT_USER};
use crate::store::query::Resource;
use crate::store::Backend;

/// How a value compares: the SQL of the value and what kind of thing it is.
#[derive(Debug, Clone)]
pub(super) struct Field {
    pub(super) sql: String,
    pub(super) kind: Kind,
    pub(super) nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Text; `lowered` when the column already holds a lowercased copy (the `_norm` columns).
    Text {
        lowered: bool,
    },
    /// A boolean column.
    BoolColumn,
    /// A boolean read out of JSON (1/0 in SQLite, 'true'/'false' text in PostgreSQL).
    JsonBool,
    /// A number read out of JSON.
    JsonNumber,
    Timestamp,
}

/// Where the values of a multi-valued attribute live.
#[derive(Debug, Clone)]
pub(super) enum Elements {
    /// `scim_user_emails` rows (value/type/primary).
    Emails,
    /// The groups a user is a direct member of.
    UserGroups,
    /// Members of a group.
    GroupMembers,
    /// A JSON array in the stored resource.
    Json(Vec<&'static str>),
}

impl Translator {
    /// `meta.resourceType` is the same for every row of a table.
    pub(super) fn constant(&self, attr: &TypedAttr) -> Option<&'static str> {
        (attr.is_core && attr.attr == "meta" && attr.sub == Some("resourceType"))
            .then_some(self.resource.name())
    }

    /// The SQL of a single-valued top-level attribute.
    pub(super) fn field(&self, attr: &TypedAttr) -> Result<Field, Error> {
        let t = self.resource.table();
        let col = |name: &str, kind: Kind, nullable: bool| Field {
            sql: format!("{t}.{name}"),
            kind,
            nullable,
        };
        let text = Kind::Text { lowered: false };
        if attr.is_core {
            match (self.resource, attr.attr, attr.sub) {
                (_, "id", None) => return Ok(col("id", text, false)),
                (_, "externalId", None) => return Ok(col("external_id", text, true)),
                (_, "meta", Some("created")) => {
                    return Ok(col("created_at", Kind::Timestamp, false))
                }
                (_, "meta", Some("lastModified")) => {
                    return Ok(col("updated_at", Kind::Timestamp, false))
                }
                (_, "meta", Some(other)) => {
                    return Err(unsupported(format!(
                        "filtering on meta.{other} is not supported"
                    )))
                }
                (Resource::User, "userName", None) => {
                    return Ok(col("user_name_norm", Kind::Text { lowered: true }, false))
                }
                (Resource::User, "displayName", None) => {
                    return Ok(col("display_name", text, true))
                }
                (Resource::User, "active", None) => {
                    return Ok(col("active", Kind::BoolColumn, false))
                }
                (Resource::Group, "displayName", None) => {
                    return Ok(col(
                        "display_name_norm",
                        Kind::Text { lowered: true },
                        false,
                    ))
                }
                _ => {}
            }
        } else if attr.schema == SEAT_USER {
            return match attr.attr {
                "status" => Ok(col("seat_status", text, false)),
                "tier" => Ok(col("seat_tier", text, true)),
                "pendingSince" => Ok(col("pending_since", Kind::Timestamp, true)),
                other => Err(unsupported(format!(
                    "filtering on the seat extension's '{other}' is not supported"
                ))),
            };
        }
        let mut path: Vec<&'static str> = Vec::new();
        if !attr.is_core {
            path.push(attr.schema);
        }
        path.push(attr.attr);
        if let Some(sub) = attr.sub {
            path.push(sub);
        }
        Ok(Field {
            sql: self.json_text(&format!("{t}.resource"), &path, attr.ty),
            kind: json_kind(attr.ty),
            nullable: true,
        })
    }

    /// A JSON leaf as SQL: text for strings, typed for booleans and numbers.
    pub(super) fn json_text(&self, doc: &str, path: &[&str], ty: AttrType) -> String {
        match self.backend {
            Backend::Sqlite => {
                let p: String = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({doc}, '${p}')")
            }
            Backend::Pg => {
                let p: Vec<String> = path.iter().map(|k| format!("\"{k}\"")).collect();
                let text = format!("(({doc})::jsonb #>> '{{{}}}')", p.join(","));
                match ty {
                    AttrType::Integer | AttrType::Decimal => format!("({text})::numeric"),
                    _ => text,
                }
            }
        }
    }

    /// Which rows or JSON elements hold a multi-valued attribute's values. Emails use their
    /// indexed rows unless the filter reaches for a sub-attribute only the JSON has.
    pub(super) fn elements_for(
        &self,
        attr: &TypedAttr,
        inner: Option<&TypedFilter>,
    ) -> Result<Elements, Error> {
        Ok(match (self.resource, attr.is_core, attr.attr) {
            (Resource::User, true, "emails") => {
                let mut subs = Vec::new();
                if let Some(s) = attr.sub {
                    subs.push(s);
                }
                if let Some(f) = inner {
                    collect_subs(f, &mut subs);
                }
                if subs
                    .iter()
                    .all(|s| matches!(*s, "value" | "type" | "primary"))
                {
                    Elements::Emails
                } else {
                    Elements::Json(vec!["emails"])
                }
            }
            (Resource::User, true, "groups") => Elements::UserGroups,
            (Resource::Group, true, "members") => Elements::GroupMembers,
            (_, true, name) => Elements::Json(vec![name]),
            (_, false, name) => Elements::Json(vec![attr.schema, name]),
        })
    }

    /// `<rows> <alias> WHERE <rows of this resource>`: the FROM and WHERE of a query over the
    /// elements of a multi-valued attribute, open for more `AND` conditions. `ordinal`: PostgreSQL
    /// numbers JSON array elements in `<alias>.n` (SQLite's json_each has `<alias>.key`).
    pub(super) fn element_source(&self, elements: &Elements, alias: &str, ordinal: bool) -> String {
        let t = self.resource.table();
        match elements {
            Elements::Emails => format!("scim_user_emails {alias} WHERE {alias}.user_id = {t}.id"),
            Elements::UserGroups => format!(
                "scim_group_members {alias} JOIN scim_groups elg ON elg.id = {alias}.group_id WHERE {alias}.member_id = {t}.id"
            ),
            Elements::GroupMembers => format!("scim_group_members {alias} WHERE {alias}.group_id = {t}.id"),
            Elements::Json(path) => match self.backend {
                Backend::Sqlite => {
                    let p: String = path.iter().map(|k| format!(".\"{k}\"")).collect();
                    format!("json_each({t}.resource, '${p}') {alias} WHERE 1 = 1")
                }
                Backend::Pg => {
                    let p: Vec<String> = path.iter().map(|k| format!("\"{k}\"")).collect();
                    let columns = if ordinal {
                        format!("WITH ORDINALITY {alias}(value, n)")
                    } else {
                        format!("{alias}(value)")
                    };
                    format!(
                        "jsonb_array_elements(CASE WHEN jsonb_typeof(({t}.resource)::jsonb #> '{{{0}}}') = 'array' \
                         THEN ({t}.resource)::jsonb #> '{{{0}}}' ELSE '[]'::jsonb END) {columns} WHERE 1 = 1",
                        p.join(",")
                    )
                }
            },
        }
    }

    /// A sub-attribute of one element.
    pub(super) fn element_field(
        &self,
        elements: &Elements,
        alias: &str,
        sub: &str,
        ty: AttrType,
    ) -> Result<Field, Error> {
        let text = Kind::Text { lowered: false };
        let f = |sql: String, kind: Kind, nullable: bool| {
            Ok(Field {
                sql,
                kind,
                nullable,
            })
        };
        match (elements, sub) {
            (Elements::Emails, "value") => f(
                format!("{alias}.value_norm"),
                Kind::Text { lowered: true },
                false,
            ),
            (Elements::Emails, "type") => f(format!("{alias}.email_type"), text, true),
            (Elements::Emails, "primary") => {
                f(format!("{alias}.is_primary"), Kind::BoolColumn, false)
            }
            (Elements::UserGroups, "value") => f(format!("{alias}.group_id"), text, false),
            (Elements::UserGroups, "display") => f(
                "elg.display_name_norm".into(),
                Kind::Text { lowered: true },
                false,
            ),
            (Elements::UserGroups, "type") => f("'direct'".into(), text, false),
            (Elements::GroupMembers, "value") => f(format!("{alias}.member_id"), text, false),
            (Elements::GroupMembers, "type") => f(format!("{alias}.member_type"), text, false),
            (Elements::Json(_), sub) => {
                let sql = match self.backend {
                    Backend::Sqlite => format!("json_extract({alias}.value, '$.\"{sub}\"')"),
                    Backend::Pg => {
                        let text = format!("({alias}.value #>> '{{\"{sub}\"}}')");
                        match ty {
                            AttrType::Integer | AttrType::Decimal => format!("({text})::numeric"),
                            _ => text,
                        }
                    }
                };
                f(sql, json_kind(ty), true)
            }
            (_, other) => Err(unsupported(format!(
                "filtering on the sub-attribute '{other}' is not supported here"
            ))),
        }
    }
}

pub(super) fn json_kind(ty: AttrType) -> Kind {
    match ty {
        AttrType::Boolean => Kind::JsonBool,
        AttrType::Integer | AttrType::Decimal => Kind::JsonNumber,
        _ => Kind::Text { lowered: false },
    }
}

pub(super) fn path_name(attr: &TypedAttr) -> String {
    match attr.sub {
        Some(s) => format!("{}.{s}", attr.attr),
        None => attr.attr.to_string(),
    }
}

fn collect_subs(f: &TypedFilter, out: &mut Vec<&'static str>) {
    match f {
        TypedFilter::And(a, b) | TypedFilter::Or(a, b) => {
            collect_subs(a, out);
            collect_subs(b, out);
        }
        TypedFilter::Not(i) => collect_subs(i, out),
        TypedFilter::Present(a) | TypedFilter::Compare { attr: a, .. } => {
            if let Some(s) = a.sub {
                out.push(s);
            }
        }
        TypedFilter::ValuePath { filter, .. } => collect_subs(filter, out),
    }
}
