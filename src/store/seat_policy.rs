//! Group tier policy rows: which seat tier the members of an IdP group should get.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{group_tier_policies, scim_group_members, scim_groups};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = group_tier_policies)]
pub struct GroupTierRow {
    pub org_id: String,
    pub group_id: String,
    pub tier: String,
    pub created_at: NaiveDateTime,
}

/// Set the tier of a group, replacing any earlier rule. Delete + insert rather than an upsert:
/// `on_conflict` does not compile on the multi-backend connection, and the caller holds the
/// organization lock, so nobody races us between the two statements.
pub fn set(conn: &mut DbConn, row: &GroupTierRow) -> Q<()> {
    super::held::flush(conn, &row.org_id)?;
    remove(conn, &row.org_id, &row.group_id)?;
    diesel::insert_into(group_tier_policies::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Remove the rule of a group; true when there was one.
pub fn remove(conn: &mut DbConn, org_id: &str, group_id: &str) -> Q<bool> {
    let n = diesel::delete(
        group_tier_policies::table
            .filter(group_tier_policies::org_id.eq(org_id))
            .filter(group_tier_policies::group_id.eq(group_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find(conn: &mut DbConn, org_id: &str, group_id: &str) -> Q<Option<GroupTierRow>> {
    group_tier_policies::table
        .filter(group_tier_policies::org_id.eq(org_id))
        .filter(group_tier_policies::group_id.eq(group_id))
        .select(GroupTierRow::as_select())
        .first(conn)
        .optional()
}

pub fn for_org(conn: &mut DbConn, org_id: &str) -> Q<Vec<GroupTierRow>> {
    group_tier_policies::table
        .filter(group_tier_policies::org_id.eq(org_id))
        .order(group_tier_policies::group_id.asc())
        .select(GroupTierRow::as_select())
        .load(conn)
}

/// Distinct tiers mapped to the groups `user_id` is a direct member of.
pub fn tiers_of_user(conn: &mut DbConn, org_id: &str, user_id: &str) -> Q<Vec<String>> {
    // No rules (most organizations): no user has a tier by its groups (`held` knows).
    if super::held::has_policies(conn, org_id)? == Some(false) {
        return Ok(Vec::new());
    }
    group_tier_policies::table
        .inner_join(
            scim_group_members::table
                .on(scim_group_members::group_id.eq(group_tier_policies::group_id)),
        )
        .filter(group_tier_policies::org_id.eq(org_id))
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::member_id.eq(user_id))
        .select(group_tier_policies::tier)
        .distinct()
        .load(conn)
}

/// `(user id, tier)` for every policy-mapped group the users given are direct members of: the
/// tiers a whole page of users asks for, in one query.
pub fn tiers_of_users(
    conn: &mut DbConn,
    org_id: &str,
    user_ids: &[String],
) -> Q<Vec<(String, String)>> {
    if user_ids.is_empty() || super::held::has_policies(conn, org_id)? == Some(false) {
        return Ok(Vec::new());
    }
    group_tier_policies::table
        .inner_join(
            scim_group_members::table
                .on(scim_group_members::group_id.eq(group_tier_policies::group_id)),
        )
        .filter(group_tier_policies::org_id.eq(org_id))
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::member_id.eq_any(user_ids))
        .select((scim_group_members::member_id, group_tier_policies::tier))
        .distinct()
        .load(conn)
}

/// Whether the organization maps any group to a tier (group changes then re-check tiers).
pub fn any_for_org(conn: &mut DbConn, org_id: &str) -> Q<bool> {
    if let Some(any) = super::held::has_policies(conn, org_id)? {
        return Ok(any);
    }
    diesel::select(diesel::dsl::exists(
        group_tier_policies::table.filter(group_tier_policies::org_id.eq(org_id)),
    ))
    .get_result(conn)
}

/// The rules of an organization with each group's displayName and user-member count.
pub fn for_org_named(conn: &mut DbConn, org_id: &str) -> Q<Vec<(GroupTierRow, String, i64)>> {
    let rows: Vec<(GroupTierRow, String)> = group_tier_policies::table
        .inner_join(scim_groups::table.on(scim_groups::id.eq(group_tier_policies::group_id)))
        .filter(group_tier_policies::org_id.eq(org_id))
        .filter(scim_groups::org_id.eq(org_id))
        .order((
            scim_groups::display_name_norm.asc(),
            group_tier_policies::group_id.asc(),
        ))
        .select((GroupTierRow::as_select(), scim_groups::display_name))
        .load(conn)?;
    let ids: Vec<String> = rows.iter().map(|(r, _)| r.group_id.clone()).collect();
    let counts: std::collections::HashMap<String, i64> = if ids.is_empty() {
        Default::default()
    } else {
        scim_group_members::table
            .filter(scim_group_members::org_id.eq(org_id))
            .filter(scim_group_members::group_id.eq_any(&ids))
            .filter(scim_group_members::member_type.eq("User"))
            .group_by(scim_group_members::group_id)
            .select((scim_group_members::group_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|(r, name)| {
            let n = counts.get(&r.group_id).copied().unwrap_or(0);
            (r, name, n)
        })
        .collect())
}

/// The user members of a group, sorted (one lock order on PostgreSQL).
pub fn user_members(conn: &mut DbConn, org_id: &str, group_id: &str) -> Q<Vec<String>> {
    scim_group_members::table
        .filter(scim_group_members::org_id.eq(org_id))
        .filter(scim_group_members::group_id.eq(group_id))
        .filter(scim_group_members::member_type.eq("User"))
        .order(scim_group_members::member_id.asc())
        .select(scim_group_members::member_id)
        .load(conn)
}
