//! `sortBy` as an ORDER BY key (`SortKey`), on both backends.

use super::attrs::{json_kind, path_name, Elements, Field, Kind};
use super::{unsupported, Translator};
use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::TypedAttr;
use crate::scim::schema::SEAT_USER;
use crate::store::query::SortKey;
use crate::store::Backend;

impl Translator {
    /// See [`SortKey`].
    pub(super) fn sort_key(&self, attr: &TypedAttr) -> Result<SortKey, Error> {
        let t = self.resource.table();
        let not_supported = || -> Error {
            ScimError::invalid_value(format!("sorting by '{}' is not supported", path_name(attr)))
                .into()
        };
        let key = |key: String, nullable: bool| {
            Ok(SortKey {
                table: t,
                key,
                nullable,
            })
        };
        if attr.multi_valued {
            return self
                .multi_valued_sort_key(attr)
                .map_err(|_| not_supported());
        }
        if attr.is_core && attr.attr == "meta" {
            return match attr.sub {
                Some("created") => key(format!("{t}.created_at"), false),
                Some("lastModified") => key(format!("{t}.updated_at"), false),
                Some("version") => key(format!("{t}.version"), false),
                // The same for every row of a table (a root search groups the types).
                Some("resourceType") => key(format!("'{}'", self.resource.name()), false),
                // The location is the id's URL.
                Some("location") => key(format!("{t}.id"), false),
                _ => Err(not_supported()),
            };
        }
        if attr.schema == SEAT_USER && attr.attr == "queuePosition" {
            return key(format!("{t}.queue_seq"), true);
        }
        let field = self.field(attr).map_err(|_| not_supported())?;
        let (value, nullable) = sort_value(&field, attr);
        key(value, nullable)
    }

    /// The primary element's value, else the first element's (RFC 7644 §3.4.2.3): a
    /// subquery over the attribute's rows or JSON array, in the order the resource lists them.
    pub(super) fn multi_valued_sort_key(&self, attr: &TypedAttr) -> Result<SortKey, Error> {
        let alias = "el";
        let elements = self.elements_for(attr, None)?;
        let from = self.element_source(&elements, alias, true);
        let first = match &elements {
            Elements::Emails => format!("{alias}.is_primary DESC, {alias}.position"),
            // A user's groups are listed by name; a group's members as they were added.
            Elements::UserGroups => "elg.display_name, elg.id".to_string(),
            Elements::GroupMembers => format!("{alias}.created_at, {alias}.member_id"),
            Elements::Json(_) => match self.backend {
                Backend::Sqlite => {
                    format!("(json_extract({alias}.value, '$.\"primary\"') IS 1) DESC, {alias}.key")
                }
                Backend::Pg => format!(
                    "COALESCE({alias}.value #>> '{{\"primary\"}}' = 'true', false) DESC, {alias}.n"
                ),
            },
        };
        let field = match attr.sub {
            Some(sub) => self.element_field(&elements, alias, sub, attr.ty)?,
            // A multi-valued simple attribute: the element itself.
            None => match (&elements, self.backend) {
                (Elements::Json(_), Backend::Sqlite) => Field {
                    sql: format!("{alias}.value"),
                    kind: json_kind(attr.ty),
                    nullable: true,
                },
                (Elements::Json(_), Backend::Pg) => Field {
                    sql: format!("({alias}.value #>> '{{}}')"),
                    kind: json_kind(attr.ty),
                    nullable: true,
                },
                _ => return Err(unsupported("no sort value")),
            },
        };
        let (value, _) = sort_value(&field, attr);
        Ok(SortKey {
            table: self.resource.table(),
            key: format!("(SELECT {value} FROM {from} ORDER BY {first} LIMIT 1)"),
            nullable: true,
        })
    }
}

/// A field as a value to sort by: folded when it is a caseExact=false string not stored
/// folded, and an empty string counted as missing (as `pr` does). Returns the SQL and
/// whether it can be NULL.
pub(super) fn sort_value(field: &Field, attr: &TypedAttr) -> (String, bool) {
    match field.kind {
        Kind::Text { lowered } => {
            let value = if attr.case_exact || lowered {
                field.sql.clone()
            } else {
                format!("scim_fold({})", field.sql)
            };
            if field.nullable {
                (format!("NULLIF({value}, '')"), true)
            } else {
                (value, false)
            }
        }
        _ => (field.sql.clone(), field.nullable),
    }
}
