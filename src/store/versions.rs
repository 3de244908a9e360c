//! Version bumps of representations that change through other rows (RFC 7644 §3.14: the
//! version changes whenever the representation does): a group's `members` when a member is
//! deleted, a user's `groups` when its memberships change or one of its groups is renamed or
//! deleted. Each is one statement over the rows that changed, never a read per row.
//!
//! The callers take their locks in one order on PostgreSQL: membership rows, then group
//! rows, then user rows (what a group PATCH does), so two of these use cases cannot wait on
//! each other in a cycle.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::cached::{cached, native};
use super::schema::{scim_group_members, scim_groups, scim_users};
use super::{DbConn, Q};

/// A new version and lastModified for the users given (their `groups` changed). One
/// statement: `=` for one user (a member add, prepared once), otherwise the whole list as one
/// bind (a JSON array on SQLite, an array on PostgreSQL), so even a 100,000-member change is
/// one statement with one parameter.
pub fn touch_users(
    conn: &mut DbConn,
    org_id: &str,
    ids: &[String],
    now: NaiveDateTime,
) -> Q<usize> {
    use scim_users::dsl as u;
    let set = (u::version.eq(u::version + 1), u::updated_at.eq(now));
    match ids {
        [] => Ok(0),
        [one] => native!(conn, |c| cached!(diesel::update(
            u::scim_users
                .filter(u::id.eq(one))
                .filter(u::org_id.eq(org_id))
        )
        .set(set))
        .rows(c)),
        many => match conn {
            DbConn::Sqlite(c) => {
                let list = serde_json::Value::from(many.to_vec()).to_string();
                diesel::update(
                    u::scim_users.filter(u::org_id.eq(org_id)).filter(
                        diesel::dsl::sql::<Bool>("scim_users.id IN (SELECT value FROM json_each(")
                            .bind::<Text, _>(list)
                            .sql("))"),
                    ),
                )
                .set(set)
                .execute(c)
            }
            DbConn::Pg(c) => diesel::update(
                u::scim_users
                    .filter(u::org_id.eq(org_id))
                    .filter(u::id.eq_any(many)),
            )
            .set(set)
            .execute(c),
        },
    }
}

/// A new version and lastModified for every user that is a member of `group_id` (the group
/// was renamed: each member's `groups` shows the new name). One statement.
pub fn touch_members_of(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    now: NaiveDateTime,
) -> Q<usize> {
    use scim_users::dsl as u;
    let members = scim_group_members::table
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::group_id.eq(group_id))
        .select(scim_group_members::member_id);
    diesel::update(
        u::scim_users
            .filter(u::org_id.eq(org_id))
            .filter(u::id.eq_any(members)),
    )
    .set((u::version.eq(u::version + 1), u::updated_at.eq(now)))
    .execute(conn)
}

/// A new version and lastModified for the groups given (their `members` changed). One
/// statement.
pub fn touch_groups(
    conn: &mut DbConn,
    org_id: &str,
    ids: &[String],
    now: NaiveDateTime,
) -> Q<usize> {
    use scim_groups::dsl as g;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(
        g::scim_groups
            .filter(g::org_id.eq(org_id))
            .filter(g::id.eq_any(ids)),
    )
    .set((g::version.eq(g::version + 1), g::updated_at.eq(now)))
    .execute(conn)
}
