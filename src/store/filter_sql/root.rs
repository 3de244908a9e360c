//! The sorted root search (`POST /.search` with sortBy): Users and Groups ordered as one
//! list in the database.

use super::raw::{Bind, RawQuery, SqlBuf};
use super::Translator;
use crate::error::Error;
use crate::scim::filter::{TypedAttr, TypedFilter};
use crate::store::query::Resource;
use crate::store::Backend;

/// One resource type's part in a root search page (`mixed_page`).
pub struct MixedPart<'a> {
    /// `None`: every resource of the type.
    pub filter: Option<&'a TypedFilter>,
    /// The sortBy attribute, `None` when the type lacks it (its resources then have no value
    /// to sort by and come last ascending).
    pub sort: Option<&'a TypedAttr>,
}

/// One page of a sorted root search (`POST /.search`, RFC 7644 §3.4.3): Users and Groups
/// ordered as one list in the database, by the sortBy value (missing values last ascending,
/// first descending, as `SortKey`), then id. Rows are `(resource type, id)`, "User" or
/// "Group". `None` for a type that takes no part.
pub fn mixed_page(
    org_id: &str,
    users: Option<MixedPart<'_>>,
    groups: Option<MixedPart<'_>>,
    descending: bool,
    offset: i64,
    limit: i64,
    backend: Backend,
) -> Result<RawQuery, Error> {
    let mut buf = SqlBuf::default();
    buf.sql("SELECT kind, id FROM (");
    let mut branches = 0;
    for (resource, part) in [(Resource::User, users), (Resource::Group, groups)] {
        let Some(part) = part else { continue };
        let t = Translator { resource, backend };
        let table = resource.table();
        let key = match part.sort {
            Some(attr) => t.sort_key(attr)?.key,
            None => "NULL".to_string(),
        };
        let kind = resource.name();
        if branches > 0 {
            buf.sql(" UNION ALL ");
        }
        branches += 1;
        buf.sql(&format!(
            "SELECT '{kind}' AS kind, {table}.id AS id, {key} AS k FROM {table} WHERE {table}.org_id = "
        ))
        .bind(Bind::Text(org_id.to_string()));
        if let Some(f) = part.filter {
            buf.sql(" AND ");
            t.filter(f, &mut buf)?;
        }
    }
    if branches == 0 {
        // Nothing to search: a query that returns no rows, on either backend.
        buf = SqlBuf::default();
        buf.sql("SELECT 'User' AS kind, 'none' AS id WHERE 1 = 0");
        return Ok(RawQuery(buf.into_predicate()));
    }
    let (dir, nulls) = if descending {
        ("DESC", "NULLS FIRST")
    } else {
        ("ASC", "NULLS LAST")
    };
    buf.sql(&format!(") page ORDER BY k {dir} {nulls}, id {dir} LIMIT "))
        .bind(Bind::Int(limit))
        .sql(" OFFSET ")
        .bind(Bind::Int(offset));
    Ok(RawQuery(buf.into_predicate()))
}
