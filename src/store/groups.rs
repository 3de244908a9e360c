//! SCIM groups and their membership rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native};
use super::filter_sql;
use super::query::{ListSpec, Predicate, Resource};
use super::schema::{scim_group_members, scim_groups};
use super::{Backend, DbConn, Q};
use crate::error::Error;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
// None is NULL on insert and update alike: both statements have fixed SQL and are prepared once.
#[diesel(
    table_name = scim_groups,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
pub struct GroupRow {
    pub id: String,
    pub org_id: String,
    pub display_name: String,
    pub display_name_norm: String,
    pub external_id: Option<String>,
    pub resource: String,
    pub version: i64,
    #[diesel(deserialize_as = super::sqlite::Ts)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::sqlite::Ts)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMemberRow {
    pub member_id: String,
    pub member_type: String,
}

pub fn insert(conn: &mut DbConn, row: &GroupRow) -> Q<()> {
    diesel::insert_into(scim_groups::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn update(conn: &mut DbConn, row: &GroupRow) -> Q<()> {
    // treat_none_as_null: every column is in the SET list, so the SQL never varies.
    native!(conn, |c| cached!(diesel::update(
        scim_groups::table
            .filter(scim_groups::id.eq(&row.id))
            .filter(scim_groups::org_id.eq(&row.org_id)),
    )
    .set(row))
    .rows(c))
    .map(|_| ())
}

/// Bump version and lastModified only: a membership change leaves the JSON alone.
pub fn touch(conn: &mut DbConn, org_id: &str, id: &str, now: NaiveDateTime) -> Q<()> {
    native!(conn, |c| cached!(diesel::update(
        scim_groups::table
            .filter(scim_groups::id.eq(id))
            .filter(scim_groups::org_id.eq(org_id)),
    )
    .set((
        scim_groups::version.eq(scim_groups::version + 1),
        scim_groups::updated_at.eq(now),
    )))
    .rows(c))
    .map(|_| ())
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> Q<Option<GroupRow>> {
    native!(conn, |c| cached!(scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .filter(scim_groups::id.eq(id))
        .select(GroupRow::as_select())
        .limit(1))
    .get_result(c)
    .optional())
}

/// The groups of the organization with the ids given, in no particular order.
pub fn by_ids(conn: &mut DbConn, org_id: &str, ids: &[String]) -> Q<Vec<GroupRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .filter(scim_groups::id.eq_any(ids))
        .select(GroupRow::as_select())
        .load(conn)
}

/// Delete a group; true when it existed. The caller has removed its member rows and taken
/// it out of the groups that held it (`remove_all_members`, `leave_all_groups`), since the
/// users and groups on the other side get a new version.
pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> Q<bool> {
    let n = diesel::delete(
        scim_groups::table
            .filter(scim_groups::org_id.eq(org_id))
            .filter(scim_groups::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// One page of the groups `spec` asks for, and the total that match.
pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    spec: &ListSpec<'_>,
) -> Result<(Vec<GroupRow>, i64), Error> {
    let backend = Backend::of(conn);
    let sort = spec
        .sort_by
        .map(|attr| filter_sql::sort_key(Resource::Group, attr, backend))
        .transpose()?;
    let predicate = || -> Result<Option<Predicate<scim_groups::table>>, Error> {
        spec.filter
            .map(|f| filter_sql::predicate(Resource::Group, f, backend))
            .transpose()
    };
    let mut q = scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .select(GroupRow::as_select())
        .into_boxed();
    if let Some(pred) = predicate()? {
        q = q.filter(pred);
    }
    use scim_groups::dsl as g;
    q = match (&sort, spec.descending) {
        (None, false) => q.order((g::created_at.asc(), g::id.asc())),
        (None, true) => q.order((g::created_at.desc(), g::id.desc())),
        (Some(key), descending) => q.order(diesel::dsl::sql::<diesel::sql_types::Text>(
            &key.order_by(descending),
        )),
    };
    let rows: Vec<GroupRow> = if spec.limit == 0 {
        Vec::new()
    } else {
        q.offset(spec.offset).limit(spec.limit).load(conn)?
    };
    // A first page that is not full holds every match: no COUNT needed (the usual IdP lookup).
    if spec.limit > 0 && spec.offset == 0 && (rows.len() as i64) < spec.limit {
        let total = rows.len() as i64;
        return Ok((rows, total));
    }
    let mut count_q = scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .into_boxed();
    if let Some(pred) = predicate()? {
        count_q = count_q.filter(pred);
    }
    let total: i64 = count_q.count().get_result(conn)?;
    Ok((rows, total))
}

/// How many members each of `group_ids` has (groups without members are absent).
pub fn member_counts(
    conn: &mut DbConn,
    org_id: &str,
    group_ids: &[String],
) -> Q<Vec<(String, i64)>> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_group_members::table
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::group_id.eq_any(group_ids))
        .group_by(scim_group_members::group_id)
        .select((scim_group_members::group_id, diesel::dsl::count_star()))
        .load(conn)
}

/// Members of the groups given: `(group_id, member)`, in insertion order per group.
pub fn members_of(
    conn: &mut DbConn,
    org_id: &str,
    group_ids: &[String],
) -> Q<Vec<(String, GroupMemberRow)>> {
    if group_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String)> = scim_group_members::table
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::group_id.eq_any(group_ids))
        .order((
            scim_group_members::group_id.asc(),
            scim_group_members::created_at.asc(),
            scim_group_members::member_id.asc(),
        ))
        .select((
            scim_group_members::group_id,
            scim_group_members::member_id,
            scim_group_members::member_type,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(g, member_id, member_type)| {
            (
                g,
                GroupMemberRow {
                    member_id,
                    member_type,
                },
            )
        })
        .collect())
}

/// Add one member; adding an existing member is a no-op (true when a row was added).
pub fn add_member(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    member: &GroupMemberRow,
    now: NaiveDateTime,
) -> Q<bool> {
    let values = (
        scim_group_members::group_id.eq(group_id),
        scim_group_members::member_id.eq(&member.member_id),
        scim_group_members::org_id.eq(org_id),
        scim_group_members::member_type.eq(&member.member_type),
        scim_group_members::created_at.eq(now),
    );
    // Dialect-only SQL: "insert unless present" has no portable diesel form.
    let n = match conn {
        DbConn::Pg(c) => diesel::insert_into(scim_group_members::table)
            .values(values)
            .on_conflict_do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_or_ignore_into(scim_group_members::table)
            .values(values)
            .execute(c)?,
    };
    Ok(n == 1)
}

/// Remove the members given (missing ones are ignored); returns the rows that went.
pub fn remove_members(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    member_ids: &[String],
) -> Q<Vec<GroupMemberRow>> {
    if member_ids.is_empty() {
        return Ok(Vec::new());
    }
    let gone: Vec<(String, String)> = diesel::delete(
        scim_group_members::table
            .filter(scim_group_members::org_id.eq(org_id))
            .filter(scim_group_members::group_id.eq(group_id))
            .filter(scim_group_members::member_id.eq_any(member_ids)),
    )
    .returning((
        scim_group_members::member_id,
        scim_group_members::member_type,
    ))
    .get_results(conn)?;
    Ok(member_rows(gone))
}

/// Remove every member of the group; returns the rows that went.
pub fn remove_all_members(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
) -> Q<Vec<GroupMemberRow>> {
    let gone: Vec<(String, String)> = diesel::delete(
        scim_group_members::table
            .filter(scim_group_members::org_id.eq(org_id))
            .filter(scim_group_members::group_id.eq(group_id)),
    )
    .returning((
        scim_group_members::member_id,
        scim_group_members::member_type,
    ))
    .get_results(conn)?;
    Ok(member_rows(gone))
}

/// Take `member_id` (a user or group about to be deleted) out of every group that holds it;
/// returns those groups' ids.
pub fn leave_all_groups(conn: &mut DbConn, org_id: &str, member_id: &str) -> Q<Vec<String>> {
    diesel::delete(
        scim_group_members::table
            .filter(scim_group_members::org_id.eq(org_id))
            .filter(scim_group_members::member_id.eq(member_id)),
    )
    .returning(scim_group_members::group_id)
    .get_results(conn)
}

fn member_rows(rows: Vec<(String, String)>) -> Vec<GroupMemberRow> {
    rows.into_iter()
        .map(|(member_id, member_type)| GroupMemberRow {
            member_id,
            member_type,
        })
        .collect()
}

/// Ids of the groups given that exist in the organization.
pub fn existing_ids(conn: &mut DbConn, org_id: &str, ids: &[String]) -> Q<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .select(scim_groups::id)
        .into_boxed();
    // `IN (…)` is never a cached statement; one id (a single member add) is `=`.
    match ids {
        [one] => q.filter(scim_groups::id.eq(one)).load(conn),
        many => q.filter(scim_groups::id.eq_any(many)).load(conn),
    }
}

/// Ids of the groups whose displayName folds to `norm` (lowercased).
pub fn ids_by_display_name(conn: &mut DbConn, org_id: &str, norm: &str) -> Q<Vec<String>> {
    scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .filter(scim_groups::display_name_norm.eq(norm))
        .order(scim_groups::id.asc())
        .select(scim_groups::id)
        .limit(10)
        .load(conn)
}

/// Every group of the organization as `(id, displayName)`, by displayName: the console's
/// choice of group to map to a tier.
pub fn names(conn: &mut DbConn, org_id: &str) -> Q<Vec<(String, String)>> {
    scim_groups::table
        .filter(scim_groups::org_id.eq(org_id))
        .order((scim_groups::display_name_norm.asc(), scim_groups::id.asc()))
        .select((scim_groups::id, scim_groups::display_name))
        .load(conn)
}
