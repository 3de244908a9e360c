//! Group tier policy rows: which seat tier the members of an IdP group should get.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{group_tier_policies, scim_group_members};
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
