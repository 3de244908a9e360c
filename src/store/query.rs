//! What a SCIM list asks of the store (`ListSpec`), and the pieces its SQL translation
//! (`filter_sql`) hands to the tables' list queries (`users::list`, `groups::list`): a
//! boxed predicate and an ORDER BY. One place for these types, so the translation and the
//! tables depend on it and not on each other.

use diesel::expression::BoxableExpression;
use diesel::sql_types::Bool;

use super::MultiBackend;
use crate::scim::filter::{TypedAttr, TypedFilter};

/// The SCIM resource types a filter can be about, with their tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

impl Resource {
    pub fn table(self) -> &'static str {
        match self {
            Resource::User => "scim_users",
            Resource::Group => "scim_groups",
        }
    }

    /// `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }
}

/// A filter as a WHERE condition on `T`, for diesel's boxed queries.
pub type Predicate<T> = Box<dyn BoxableExpression<T, MultiBackend, SqlType = Bool>>;

/// One page of a resource list: which resources, in which order, and which of them.
#[derive(Debug, Clone, Copy)]
pub struct ListSpec<'a> {
    /// A filter checked against the resource's schema; `None`: every resource.
    pub filter: Option<&'a TypedFilter>,
    /// The sortBy attribute; `None`: `(meta.created, id)`, the default order.
    pub sort_by: Option<&'a TypedAttr>,
    pub descending: bool,
    /// 0-based.
    pub offset: i64,
    pub limit: i64,
}

impl ListSpec<'_> {
    /// `(created_at, id)` ascending: the order deep user pages seek in (`page_marks`).
    pub fn in_default_order(&self) -> bool {
        self.sort_by.is_none() && !self.descending
    }
}

/// The ORDER BY of a `sortBy` attribute (RFC 7644 §3.4.2.3), in SQL on both backends: the
/// value a resource sorts by (a column, a JSON leaf, or a multi-valued attribute's primary
/// value, else its first), folded with `scim_fold` when it is a caseExact=false string.
/// Names in the SQL come from the schema registry, never from the request. Made by
/// `filter_sql::sort_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub(super) table: &'static str,
    /// The value, NULL when the resource has none.
    pub(super) key: String,
    /// Whether `key` can be NULL.
    pub(super) nullable: bool,
}

impl SortKey {
    /// `key, id` in the direction asked, resources without a value last when ascending and
    /// first when descending (RFC 7644 §3.4.2.3; SQLite puts NULLs first ascending, so this
    /// is spelled out), and ties in id order so pages are stable.
    pub fn order_by(&self, descending: bool) -> String {
        let t = self.table;
        let dir = if descending { "DESC" } else { "ASC" };
        let id = format!("{t}.id {dir}");
        if self.key == format!("{t}.id") {
            return id;
        }
        let nulls = match (self.nullable, descending) {
            (false, _) => "",
            (true, false) => " NULLS LAST",
            (true, true) => " NULLS FIRST",
        };
        format!("{} {dir}{nulls}, {id}", self.key)
    }
}
