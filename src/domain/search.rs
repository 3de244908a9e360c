//! `POST /.search` on the service root: Users and Groups as one list (RFC 7644 §3.4.3).
//!
//! The filter is narrowed to each resource type (`scim::filter::scope`): an attribute a type
//! lacks matches nothing of that type, so `displayName eq "Sales" or userName eq "a"` finds
//! the group Sales and the user a. Without sortBy the list is the users, then the groups;
//! with sortBy it is one order across both, computed in the database (`mixed_page`).

use std::collections::HashMap;

use super::groups::{self, GroupView};
use super::users::{self, UserView};
use crate::error::Error;
use crate::scim::error::ScimError;
use crate::scim::filter::scope::{scope, unknown_everywhere, Scoped};
use crate::scim::filter::{parse_filter_located, resolve_sort, validate, TypedAttr, TypedFilter};
use crate::scim::list::{ListQuery, SortOrder};
use crate::scim::projection::wants_attribute;
use crate::scim::schema::{Registry, ResourceSchema};
use crate::store::{self, filter_sql, DbConn};

/// One resource of a root search, in list order.
pub enum Found {
    User(UserView),
    Group(GroupView),
}

pub struct Mixed {
    pub resources: Vec<Found>,
    pub total: i64,
}

/// What a type contributes: `None` when the filter matches none of it, else its checked
/// filter (`None` inside: all of it).
type Part = Option<Option<TypedFilter>>;

pub fn search_all(conn: &mut DbConn, org_id: &str, q: &ListQuery) -> Result<Mixed, Error> {
    let reg = Registry::get();
    let (user_part, group_part) = match &q.filter {
        None => (Some(None), Some(None)),
        Some(f) => {
            let (parsed, positions) = parse_filter_located(f)?;
            if let Some((i, path)) = unknown_everywhere(&parsed, &[&reg.user, &reg.group]) {
                let at = positions
                    .get(i)
                    .map(|p| format!(" (at position {p})"))
                    .unwrap_or_default();
                return Err(
                    ScimError::invalid_filter(format!("unknown attribute '{path}'{at}")).into(),
                );
            }
            (part(&parsed, &reg.user)?, part(&parsed, &reg.group)?)
        }
    };
    let sort = match q.sort_by.as_deref() {
        None => None,
        Some(name) => Some(sort_attrs(name, &reg.user, &reg.group)?),
    };
    // The per-type queries below page and count; the order across types is ours.
    let unsorted = ListQuery {
        sort_by: None,
        ..q.clone()
    };
    let counting = ListQuery {
        count: 0,
        ..unsorted.clone()
    };
    let user_total = match &user_part {
        Some(f) => users::search(conn, org_id, &counting, f.as_ref())?.1,
        None => 0,
    };
    let group_total = match &group_part {
        Some(f) => groups::search(conn, org_id, &counting, f.as_ref())?.1,
        None => 0,
    };
    let total = user_total + group_total;
    let resources = match sort {
        Some((user_sort, group_sort)) => {
            let parts = (
                user_part.as_ref().map(|f| filter_sql::MixedPart {
                    filter: f.as_ref(),
                    sort: user_sort.as_ref(),
                }),
                group_part.as_ref().map(|f| filter_sql::MixedPart {
                    filter: f.as_ref(),
                    sort: group_sort.as_ref(),
                }),
            );
            sorted_page(conn, org_id, q, parts)?
        }
        None => concatenated_page(conn, org_id, &unsorted, &user_part, &group_part, user_total)?,
    };
    Ok(Mixed { resources, total })
}

/// The filter narrowed to one type and checked against it.
fn part(parsed: &crate::scim::filter::Filter, rs: &ResourceSchema) -> Result<Part, Error> {
    Ok(match scope(parsed, rs) {
        Scoped::Nothing => None,
        Scoped::All => Some(None),
        Scoped::Filter(f) => Some(Some(validate(&f, rs)?)),
    })
}

/// The sortBy attribute of each type, `None` for a type that lacks it; an attribute neither
/// type has is refused like on `/Users` (400 invalidValue).
fn sort_attrs(
    name: &str,
    user: &ResourceSchema,
    group: &ResourceSchema,
) -> Result<(Option<TypedAttr>, Option<TypedAttr>), Error> {
    let of = |rs: &ResourceSchema| match rs.resolve(name) {
        None => Ok(None),
        Some(_) => resolve_sort(name, rs).map(Some),
    };
    match (of(user)?, of(group)?) {
        (None, None) => Err(ScimError::invalid_value(format!(
            "cannot sort by unknown attribute '{name}'"
        ))
        .into()),
        both => Ok(both),
    }
}

/// Users, then groups, paged across the two.
fn concatenated_page(
    conn: &mut DbConn,
    org_id: &str,
    q: &ListQuery,
    user_part: &Part,
    group_part: &Part,
    user_total: i64,
) -> Result<Vec<Found>, Error> {
    let mut out = Vec::new();
    let offset = q.offset();
    let mut remaining = q.count;
    if let (Some(f), true) = (user_part, offset < user_total && remaining > 0) {
        let page = ListQuery {
            count: remaining,
            ..q.clone()
        };
        let found = users::search(conn, org_id, &page, f.as_ref())?.0;
        remaining -= found.len() as i64;
        out.extend(found.into_iter().map(Found::User));
    }
    if let (Some(f), true) = (group_part, remaining > 0) {
        let group_offset = (offset - user_total).max(0);
        let page = ListQuery {
            start_index: group_offset + 1,
            count: remaining,
            ..q.clone()
        };
        let found = groups::search(conn, org_id, &page, f.as_ref())?.0;
        out.extend(found.into_iter().map(Found::Group));
    }
    Ok(out)
}

/// One page in sortBy order across both types: the ids in the database's order, then the
/// resources of those ids.
fn sorted_page(
    conn: &mut DbConn,
    org_id: &str,
    q: &ListQuery,
    (user_part, group_part): (
        Option<filter_sql::MixedPart<'_>>,
        Option<filter_sql::MixedPart<'_>>,
    ),
) -> Result<Vec<Found>, Error> {
    use diesel::RunQueryDsl;
    if q.count == 0 {
        return Ok(Vec::new());
    }
    let query = filter_sql::mixed_page(
        org_id,
        user_part,
        group_part,
        q.sort_order == SortOrder::Descending,
        q.offset(),
        q.count,
        store::Backend::of(conn),
    )?;
    let page: Vec<(String, String)> = query.load(conn)?;
    let ids_of = |kind: &str| -> Vec<String> {
        page.iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .collect()
    };
    let reg = Registry::get();
    let with_groups = wants_attribute(&reg.user, &q.attributes, &q.excluded_attributes, "groups");
    let with_members =
        wants_attribute(&reg.group, &q.attributes, &q.excluded_attributes, "members");
    let user_rows = store::users::by_ids(conn, org_id, &ids_of("User"))?;
    let group_ids = ids_of("Group");
    let mut group_rows = store::groups::by_ids(conn, org_id, &group_ids)?;
    // In page order, so that a member budget cuts the page at its end, never in its middle.
    group_rows.sort_by_key(|r| group_ids.iter().position(|id| id == &r.id));
    let mut users: HashMap<String, UserView> =
        users::load_views(conn, org_id, user_rows, with_groups)?
            .into_iter()
            .map(|v| (v.row.id.clone(), v))
            .collect();
    let mut groups: HashMap<String, GroupView> =
        groups::load_page_views(conn, org_id, group_rows, with_members, q.max_page_members)?
            .into_iter()
            .map(|v| (v.row.id.clone(), v))
            .collect();
    // Groups past the member budget were not loaded: the page ends before the first of them.
    let cut = page
        .iter()
        .position(|(kind, id)| kind != "User" && group_ids.contains(id) && !groups.contains_key(id))
        .unwrap_or(page.len());
    Ok(page
        .into_iter()
        .take(cut)
        .filter_map(|(kind, id)| match kind.as_str() {
            "User" => users.remove(&id).map(Found::User),
            _ => groups.remove(&id).map(Found::Group),
        })
        .collect())
}
