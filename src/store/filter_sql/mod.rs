//! Typed SCIM filters and sort attributes to SQL, run in the database on both backends —
//! never by loading rows.
//!
//! Attributes with their own columns (userName, externalId, id, active, meta timestamps, seat
//! state, group displayName) compare on those columns, so the common IdP lookups use indexes;
//! email values go through the `scim_user_emails` rows; group membership through
//! `scim_group_members`; everything else reads the stored JSON with the backend's JSON
//! functions (`attrs`). Attribute names in the SQL text come from the schema registry (never
//! from the request); every value from the request is a bind parameter (`raw`).
//!
//! - `predicate`: a filter as a WHERE condition;
//! - `sort`: a sortBy attribute as an ORDER BY key;
//! - `root`: the sorted root search over Users and Groups at once.
//!
//! Parsing a filter is the protocol's (`scim::filter::parse_for`); which filters are index
//! lookups is the planner's (`store::plan`). The SQL each shape produces on each backend is
//! pinned by snapshot tests (`tests.rs`, `snapshots/`).

mod attrs;
mod predicate;
mod raw;
mod root;
mod sort;
#[cfg(test)]
mod tests;

pub use raw::RawQuery;
pub use root::{mixed_page, MixedPart};

use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::{TypedAttr, TypedFilter};
use crate::store::query::{Predicate, Resource, SortKey};
use crate::store::Backend;

/// A filter on `resource` as a WHERE condition on `T`, its table.
pub fn predicate<T>(
    resource: Resource,
    f: &TypedFilter,
    backend: Backend,
) -> Result<Predicate<T>, Error> {
    let mut buf = raw::SqlBuf::default();
    Translator { resource, backend }.filter(f, &mut buf)?;
    Ok(Box::new(buf.into_predicate()))
}

/// How a list of `resource` is ordered by a `sortBy` attribute (from
/// `scim::filter::resolve_sort`); refused with `invalidValue` when it cannot be.
pub fn sort_key(resource: Resource, attr: &TypedAttr, backend: Backend) -> Result<SortKey, Error> {
    Translator { resource, backend }.sort_key(attr)
}

/// Translates for one resource type on one backend.
struct Translator {
    resource: Resource,
    backend: Backend,
}

fn unsupported(what: impl Into<String>) -> Error {
    ScimError::invalid_filter(what).into()
}
