//! Typed SCIM filters to SQL, run in the database on both backends — never by loading rows.
//!
//! Attributes with their own columns (userName, externalId, id, active, meta timestamps, seat
//! state, group displayName) compare on those columns, so the common IdP lookups use indexes;
//! email values go through the `scim_user_emails` rows; group membership through
//! `scim_group_members`; everything else reads the stored JSON with the backend's JSON
//! functions. Every leaf is two-valued (never SQL NULL), so `not (…)` means what SCIM says.
//! Attribute names in the SQL text come from the schema registry (never from the request);
//! every value from the request is a bind parameter.

use chrono::NaiveDateTime;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};
use diesel::QueryResult;

use super::groups::GroupPredicate;
use super::users::UserPredicate;
use super::sqlite::fold;
use super::{Backend, MultiBackend};
use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::{
    parse_filter_located, validate_located, CompValue, CompareOp, TypedAttr, TypedFilter,
};
use crate::scim::schema::{AttrType, Registry, SEAT_USER};

/// Parse and check a filter for the User resource; errors name a position.
pub fn parse_user_filter(f: &str) -> Result<TypedFilter, Error> {
    let (parsed, paths) = parse_filter_located(f)?;
    Ok(validate_located(&parsed, &Registry::get().user, &paths)?)
}

/// Parse and check a filter for the Group resource; errors name a position.
pub fn parse_group_filter(f: &str) -> Result<TypedFilter, Error> {
    let (parsed, paths) = parse_filter_located(f)?;
    Ok(validate_located(&parsed, &Registry::get().group, &paths)?)
}

pub fn user_predicate(f: &TypedFilter, backend: Backend) -> Result<UserPredicate, Error> {
    let mut buf = SqlBuf::default();
    Translator {
        resource: Resource::User,
        backend,
    }
    .filter(f, &mut buf)?;
    Ok(Box::new(buf.into_predicate()))
}

pub fn group_predicate(f: &TypedFilter, backend: Backend) -> Result<GroupPredicate, Error> {
    let mut buf = SqlBuf::default();
    Translator {
        resource: Resource::Group,
        backend,
    }
    .filter(f, &mut buf)?;
    Ok(Box::new(buf.into_predicate()))
}

/// How a User list is ordered by a `sortBy` attribute (from `scim::filter::resolve_sort`).
pub fn user_sort_key(attr: &TypedAttr, backend: Backend) -> Result<SortKey, Error> {
    Translator {
        resource: Resource::User,
        backend,
    }
    .sort_key(attr)
}

/// How a Group list is ordered by a `sortBy` attribute (from `scim::filter::resolve_sort`).
pub fn group_sort_key(attr: &TypedAttr, backend: Backend) -> Result<SortKey, Error> {
    Translator {
        resource: Resource::Group,
        backend,
    }
    .sort_key(attr)
}

/// The ORDER BY of a `sortBy` attribute (RFC 7644 §3.4.2.3), in SQL on both backends: the
/// value a resource sorts by (a column, a JSON leaf, or a multi-valued attribute's primary
/// value, else its first), folded with `scim_fold` when it is a caseExact=false string.
/// Names in the SQL come from the schema registry, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    table: &'static str,
    /// The value, NULL when the resource has none.
    key: String,
    /// Whether `key` can be NULL.
    nullable: bool,
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

/// A whole query built like a predicate (`mixed_page`): rows of `(Text, Text)`.
#[derive(Debug, Clone)]
pub struct RawQuery(RawPredicate);

impl diesel::query_builder::Query for RawQuery {
    type SqlType = (Text, Text);
}

impl QueryId for RawQuery {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for RawQuery {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

impl diesel::RunQueryDsl<super::DbConn> for RawQuery {}

/// True when a User filter finds its rows through an index whatever the table's size: an
/// `eq` on `id`, `userName` or `externalId`, or an `and` with such a side. These are the
/// lookups identity providers send before every create and update.
pub fn is_user_index_lookup(f: &TypedFilter) -> bool {
    is_index_lookup(f, Resource::User)
}

/// The one user a filter can match when it is `id eq "…"` or `userName eq "…"` alone: the
/// lookups an IdP sends before every create and update, answered by a prepared statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    Id(&'a str),
    /// As the client wrote it; `userName` is compared case-insensitively.
    UserName(&'a str),
}

pub fn user_key(f: &TypedFilter) -> Option<UserKey<'_>> {
    match f {
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if attr.is_core && attr.sub.is_none() && !attr.multi_valued => match attr.attr {
            "id" => Some(UserKey::Id(s)),
            "userName" if !attr.case_exact => Some(UserKey::UserName(s)),
            _ => None,
        },
        _ => None,
    }
}

/// Like [`is_user_index_lookup`], for Groups (`id`, `displayName`, `externalId`).
pub fn is_group_index_lookup(f: &TypedFilter) -> bool {
    is_index_lookup(f, Resource::Group)
}

fn is_index_lookup(f: &TypedFilter, resource: Resource) -> bool {
    match f {
        TypedFilter::And(a, b) => is_index_lookup(a, resource) || is_index_lookup(b, resource),
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: CompValue::Str(_),
        } if attr.is_core && attr.sub.is_none() && !attr.multi_valued => {
            match (resource, attr.attr) {
                (_, "id") => true,
                // caseExact: compared on the column as it is, so its index applies.
                (_, "externalId") => attr.case_exact,
                (Resource::User, "userName") | (Resource::Group, "displayName") => true,
                _ => false,
            }
        }
        _ => false,
    }
}

fn unsupported(what: impl Into<String>) -> Error {
    ScimError::invalid_filter(what).into()
}

// ---------------------------------------------------------------------------------------------
// A raw boolean SQL expression with bind parameters, usable in diesel's boxed queries.

#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
    Ts(NaiveDateTime),
}

/// SQL text split around bind parameters: `parts.len() == binds.len() + 1`.
#[derive(Debug, Clone)]
struct SqlBuf {
    parts: Vec<String>,
    binds: Vec<Bind>,
    /// False once a value is written into the SQL text (numbers), which would make every
    /// value a new prepared statement.
    cacheable: bool,
}

impl Default for SqlBuf {
    fn default() -> Self {
        SqlBuf {
            parts: vec![String::new()],
            binds: Vec::new(),
            cacheable: true,
        }
    }
}

impl SqlBuf {
    fn sql(&mut self, s: &str) -> &mut Self {
        if let Some(last) = self.parts.last_mut() {
            last.push_str(s);
        }
        self
    }
    fn bind(&mut self, b: Bind) -> &mut Self {
        self.binds.push(b);
        self.parts.push(String::new());
        self
    }
    fn into_predicate(self) -> RawPredicate {
        RawPredicate {
            parts: self.parts,
            binds: self.binds,
            cacheable: self.cacheable,
        }
    }
}

/// The finished predicate. Implements just enough of diesel's expression traits to be boxed
/// into `BoxableExpression<table, MultiBackend, SqlType = Bool>`.
#[derive(Debug, Clone)]
pub struct RawPredicate {
    parts: Vec<String>,
    binds: Vec<Bind>,
    cacheable: bool,
}

impl Expression for RawPredicate {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for RawPredicate {}
impl<QS> SelectableExpression<QS> for RawPredicate {}

impl ValidGrouping<()> for RawPredicate {
    type IsAggregate = is_aggregate::No;
}

impl QueryId for RawPredicate {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<MultiBackend> for RawPredicate {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        // The text depends only on the filter's shape (values are binds), so the prepared
        // statement can be reused, unless a number literal was written into it.
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for (i, part) in self.parts.iter().enumerate() {
            out.push_sql(part);
            match self.binds.get(i) {
                Some(Bind::Text(s)) => out.push_bind_param::<Text, String>(s)?,
                Some(Bind::Int(n)) => out.push_bind_param::<BigInt, i64>(n)?,
                Some(Bind::Bool(b)) => out.push_bind_param::<Bool, bool>(b)?,
                Some(Bind::Ts(t)) => out.push_bind_param::<Timestamp, NaiveDateTime>(t)?,
                None => {}
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Translation.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    User,
    Group,
}

impl Resource {
    fn table(self) -> &'static str {
        match self {
            Resource::User => "scim_users",
            Resource::Group => "scim_groups",
        }
    }

    /// `meta.resourceType`.
    fn name(self) -> &'static str {
        match self {
            Resource::User => "User",
            Resource::Group => "Group",
        }
    }
}

/// How a value compares: the SQL of the value and what kind of thing it is.
#[derive(Debug, Clone)]
struct Field {
    sql: String,
    kind: Kind,
    nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
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
enum Elements {
    /// `scim_user_emails` rows (value/type/primary).
    Emails,
    /// The groups a user is a direct member of.
    UserGroups,
    /// Members of a group.
    GroupMembers,
    /// A JSON array in the stored resource.
    Json(Vec<&'static str>),
}

struct Translator {
    resource: Resource,
    backend: Backend,
}

impl Translator {
    fn filter(&self, f: &TypedFilter, buf: &mut SqlBuf) -> Result<(), Error> {
        match f {
            TypedFilter::And(a, b) | TypedFilter::Or(a, b) => {
                let op = if matches!(f, TypedFilter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                buf.sql("(");
                self.filter(a, buf)?;
                buf.sql(op);
                self.filter(b, buf)?;
                buf.sql(")");
            }
            TypedFilter::Not(inner) => {
                buf.sql("(NOT ");
                self.filter(inner, buf)?;
                buf.sql(")");
            }
            TypedFilter::Present(attr) => self.attr_test(attr, None, buf)?,
            TypedFilter::Compare { attr, op, value } => {
                self.attr_test(attr, Some((*op, value)), buf)?
            }
            TypedFilter::ValuePath { attr, filter } => {
                let elements = self.elements_for(attr, Some(filter))?;
                self.exists(&elements, buf, |t, alias, buf| {
                    t.element_filter(&elements, alias, filter, buf)
                })?;
            }
        }
        Ok(())
    }

    /// `pr` when `cmp` is None, else a comparison, on a top-level attribute path.
    fn attr_test(
        &self,
        attr: &TypedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        // "eq null" means "has no value"; "ne null" means "has a value".
        if let Some((op, CompValue::Null)) = cmp {
            let present = TypedFilter::Present(attr.clone());
            return match op {
                CompareOp::Eq => self.filter(&TypedFilter::Not(Box::new(present)), buf),
                CompareOp::Ne => self.filter(&present, buf),
                _ => Err(unsupported("null can only be compared with eq or ne")),
            };
        }
        if attr.attr == "schemas" {
            return Err(unsupported("filtering on 'schemas' is not supported"));
        }
        // Validation marks an attribute multi-valued when it, or the parent of its
        // sub-attribute, is: its values live in rows or a JSON array.
        let top_multi = attr.multi_valued;
        if top_multi {
            let elements = self.elements_for(attr, None)?;
            let sub = attr.sub;
            // "ne": no value is equal — so NOT EXISTS an equal one.
            let (negate, cmp) = match cmp {
                Some((CompareOp::Ne, v)) => (true, Some((CompareOp::Eq, v))),
                other => (false, other),
            };
            if negate {
                buf.sql("(NOT ");
            }
            self.exists(&elements, buf, |t, alias, buf| match sub {
                None => {
                    buf.sql("1 = 1");
                    Ok(())
                }
                Some(sub) => {
                    let field = t.element_field(&elements, alias, sub, attr.ty)?;
                    t.test(&field, attr, cmp, buf)
                }
            })?;
            if negate {
                buf.sql(")");
            }
            return Ok(());
        }
        // Every resource has `meta` and all of its sub-attributes; the stored JSON does not
        // hold them (the server renders them), so `meta pr` must not look there.
        if cmp.is_none() && attr.is_core && attr.attr == "meta" {
            buf.sql("1 = 1");
            return Ok(());
        }
        if let Some(constant) = self.constant(attr) {
            return match cmp {
                None => {
                    buf.sql("1 = 1");
                    Ok(())
                }
                Some((op @ (CompareOp::Eq | CompareOp::Ne), CompValue::Str(s))) => {
                    let equal = s.eq_ignore_ascii_case(constant);
                    buf.sql(if equal == (op == CompareOp::Eq) {
                        "1 = 1"
                    } else {
                        "1 = 0"
                    });
                    Ok(())
                }
                _ => Err(unsupported(format!(
                    "only eq and ne apply to {}",
                    path_name(attr)
                ))),
            };
        }
        let field = self.field(attr)?;
        self.test(&field, attr, cmp, buf)
    }

    /// `meta.resourceType` is the same for every row of a table.
    fn constant(&self, attr: &TypedAttr) -> Option<&'static str> {
        (attr.is_core && attr.attr == "meta" && attr.sub == Some("resourceType"))
            .then_some(self.resource.name())
    }

    /// The SQL of a single-valued top-level attribute.
    fn field(&self, attr: &TypedAttr) -> Result<Field, Error> {
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
    fn json_text(&self, doc: &str, path: &[&str], ty: AttrType) -> String {
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
    fn elements_for(
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

    /// `EXISTS (SELECT 1 FROM <elements> WHERE <body>)`.
    fn exists(
        &self,
        elements: &Elements,
        buf: &mut SqlBuf,
        body: impl FnOnce(&Self, &str, &mut SqlBuf) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let alias = "el";
        let from = self.element_source(elements, alias, false);
        buf.sql(&format!("EXISTS (SELECT 1 FROM {from} AND ("));
        body(self, alias, buf)?;
        buf.sql("))");
        Ok(())
    }

    /// `<rows> <alias> WHERE <rows of this resource>`: the FROM and WHERE of a query over the
    /// elements of a multi-valued attribute, open for more `AND` conditions. `ordinal`: PostgreSQL
    /// numbers JSON array elements in `<alias>.n` (SQLite's json_each has `<alias>.key`).
    fn element_source(&self, elements: &Elements, alias: &str, ordinal: bool) -> String {
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

    /// See [`SortKey`].
    fn sort_key(&self, attr: &TypedAttr) -> Result<SortKey, Error> {
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
    fn multi_valued_sort_key(&self, attr: &TypedAttr) -> Result<SortKey, Error> {
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

    /// A sub-attribute of one element.
    fn element_field(
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

    /// The inner filter of a value path, on one element.
    fn element_filter(
        &self,
        elements: &Elements,
        alias: &str,
        f: &TypedFilter,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        match f {
            TypedFilter::And(a, b) | TypedFilter::Or(a, b) => {
                let op = if matches!(f, TypedFilter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                buf.sql("(");
                self.element_filter(elements, alias, a, buf)?;
                buf.sql(op);
                self.element_filter(elements, alias, b, buf)?;
                buf.sql(")");
                Ok(())
            }
            TypedFilter::Not(inner) => {
                buf.sql("(NOT ");
                self.element_filter(elements, alias, inner, buf)?;
                buf.sql(")");
                Ok(())
            }
            TypedFilter::Present(attr) | TypedFilter::Compare { attr, .. } => {
                let sub = attr
                    .sub
                    .ok_or_else(|| unsupported("a value filter compares sub-attributes"))?;
                let field = self.element_field(elements, alias, sub, attr.ty)?;
                let cmp = match f {
                    TypedFilter::Compare { op, value, .. } => Some((*op, value)),
                    _ => None,
                };
                match cmp {
                    Some((CompareOp::Eq, CompValue::Null)) => {
                        buf.sql("(NOT ");
                        self.test(&field, attr, None, buf)?;
                        buf.sql(")");
                        Ok(())
                    }
                    Some((CompareOp::Ne, CompValue::Null)) => self.test(&field, attr, None, buf),
                    _ => self.test(&field, attr, cmp, buf),
                }
            }
            TypedFilter::ValuePath { .. } => Err(unsupported("value filters cannot be nested")),
        }
    }

    /// A two-valued test of one field: presence when `cmp` is None.
    fn test(
        &self,
        field: &Field,
        attr: &TypedAttr,
        cmp: Option<(CompareOp, &CompValue)>,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        let guard = |buf: &mut SqlBuf| {
            if field.nullable {
                buf.sql(&format!("{} IS NOT NULL AND ", field.sql));
            }
        };
        let Some((op, value)) = cmp else {
            buf.sql("(");
            match field.kind {
                Kind::Text { .. } if field.nullable => {
                    buf.sql(&format!("{0} IS NOT NULL AND {0} <> ''", field.sql));
                }
                _ if field.nullable => {
                    buf.sql(&format!("{} IS NOT NULL", field.sql));
                }
                _ => {
                    buf.sql("1 = 1");
                }
            }
            buf.sql(")");
            return Ok(());
        };
        if op == CompareOp::Ne {
            // Absent attributes are "ne" anything: not (present and equal).
            buf.sql("(NOT ");
            self.test(field, attr, Some((CompareOp::Eq, value)), buf)?;
            buf.sql(")");
            return Ok(());
        }
        buf.sql("(");
        guard(buf);
        match (field.kind, value) {
            (Kind::Text { lowered }, CompValue::Str(s)) => {
                // caseExact=false: a column stored folded compares with the value folded the
                // same way (in Rust), so its index applies; anything else is folded on both
                // sides by the database's `scim_fold` (see `store::fold`).
                let (lhs, rhs) = match (attr.case_exact, lowered) {
                    (true, _) => (field.sql.clone(), Operand::AsIs(s.clone())),
                    (false, true) => (field.sql.clone(), Operand::AsIs(fold::fold(s))),
                    (false, false) => (
                        format!("scim_fold({})", field.sql),
                        Operand::Folded(s.clone()),
                    ),
                };
                self.text_op(&lhs, op, rhs, buf)?;
            }
            (Kind::BoolColumn, CompValue::Bool(b)) if op == CompareOp::Eq => {
                buf.sql(&format!("{} = ", field.sql)).bind(Bind::Bool(*b));
            }
            (Kind::JsonBool, CompValue::Bool(b)) if op == CompareOp::Eq => {
                let literal = match (self.backend, b) {
                    (Backend::Sqlite, true) => "1",
                    (Backend::Sqlite, false) => "0",
                    (Backend::Pg, true) => "'true'",
                    (Backend::Pg, false) => "'false'",
                };
                buf.sql(&format!("{} = {literal}", field.sql));
            }
            (Kind::JsonNumber, CompValue::Num(n)) => {
                // A validated JSON number: digits, sign, dot and exponent only.
                let lit = n.to_string();
                if !lit
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
                {
                    return Err(unsupported("malformed number"));
                }
                buf.cacheable = false;
                buf.sql(&format!("{} {} {lit}", field.sql, sql_op(op)?));
            }
            (Kind::Timestamp, CompValue::Str(s)) => {
                let t = chrono::DateTime::parse_from_rfc3339(s)
                    .map_err(|_| unsupported(format!("'{s}' is not an RFC 3339 date-time")))?
                    .naive_utc();
                buf.sql(&format!("{} {} ", field.sql, sql_op(op)?))
                    .bind(Bind::Ts(t));
            }
            (Kind::Timestamp, _) => {
                return Err(unsupported("date-times compare with RFC 3339 strings"))
            }
            _ => {
                return Err(unsupported(format!(
                    "'{}' cannot be compared with {} that value",
                    path_name(attr),
                    op.as_str()
                )))
            }
        }
        buf.sql(")");
        Ok(())
    }

    fn text_op(
        &self,
        lhs: &str,
        op: CompareOp,
        rhs: Operand,
        buf: &mut SqlBuf,
    ) -> Result<(), Error> {
        let (v, folded) = match rhs {
            Operand::AsIs(v) => (v, false),
            Operand::Folded(v) => (v, true),
        };
        // The value as SQL after its bind: `?` or `scim_fold(?)`.
        let close = if folded { ")" } else { "" };
        let value = |buf: &mut SqlBuf, v: &str| {
            if folded {
                buf.sql("scim_fold(");
            }
            buf.bind(Bind::Text(v.to_string())).sql(close);
        };
        // The value's length in characters: counted here, or (folded, where folding may
        // change it) by the database, so that both sides agree.
        let length = |buf: &mut SqlBuf, v: &str| {
            if folded {
                buf.sql("length(scim_fold(")
                    .bind(Bind::Text(v.to_string()))
                    .sql("))");
            } else {
                // Cast: PostgreSQL's substr/right take int4, binds are int8.
                buf.sql("CAST(")
                    .bind(Bind::Int(v.chars().count() as i64))
                    .sql(" AS INTEGER)");
            }
        };
        match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew if v.is_empty() => {
                buf.sql("1 = 1");
            }
            CompareOp::Co => {
                // instr/strpos rather than LIKE: no wildcard escaping, and case-exact on SQLite.
                let f = match self.backend {
                    Backend::Sqlite => "instr",
                    Backend::Pg => "strpos",
                };
                buf.sql(&format!("{f}({lhs}, "));
                value(buf, &v);
                buf.sql(") > 0");
            }
            CompareOp::Sw => {
                buf.sql(&format!("substr({lhs}, 1, "));
                length(buf, &v);
                buf.sql(") = ");
                value(buf, &v);
            }
            CompareOp::Ew => {
                match self.backend {
                    Backend::Sqlite => buf.sql(&format!("substr({lhs}, -")),
                    Backend::Pg => buf.sql(&format!("right({lhs}, ")),
                };
                length(buf, &v);
                buf.sql(") = ");
                value(buf, &v);
            }
            _ => {
                buf.sql(&format!("{lhs} {} ", sql_op(op)?));
                value(buf, &v);
            }
        }
        Ok(())
    }
}

/// The right-hand side of a text comparison.
enum Operand {
    /// Bound as it is (case-exact, or already folded in Rust for a `*_norm` column).
    AsIs(String),
    /// Folded by the database's `scim_fold`, like the column it is compared with.
    Folded(String),
}

/// A field as a value to sort by: folded when it is a caseExact=false string not stored
/// folded, and an empty string counted as missing (as `pr` does). Returns the SQL and
/// whether it can be NULL.
fn sort_value(field: &Field, attr: &TypedAttr) -> (String, bool) {
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

fn json_kind(ty: AttrType) -> Kind {
    match ty {
        AttrType::Boolean => Kind::JsonBool,
        AttrType::Integer | AttrType::Decimal => Kind::JsonNumber,
        _ => Kind::Text { lowered: false },
    }
}

fn sql_op(op: CompareOp) -> Result<&'static str, Error> {
    Ok(match op {
        CompareOp::Eq => "=",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        other => {
            return Err(unsupported(format!(
                "operator {} does not apply here",
                other.as_str()
            )))
        }
    })
}

fn path_name(attr: &TypedAttr) -> String {
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
