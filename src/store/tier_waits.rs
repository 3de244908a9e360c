//! Tier waits: a seated account waiting for a seat of the tier its groups map it to.

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::schema::{scim_users, tier_waits};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tier_waits)]
pub struct TierWaitRow {
    pub org_id: String,
    pub user_id: String,
    pub tier: String,
    pub seq: i64,
    pub since: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, org_id: &str, user_id: &str) -> Q<Option<TierWaitRow>> {
    tier_waits::table
        .filter(tier_waits::org_id.eq(org_id))
        .filter(tier_waits::user_id.eq(user_id))
        .select(TierWaitRow::as_select())
        .first(conn)
        .optional()
}

/// Record a wait, replacing an earlier one of the user. Delete + insert: `on_conflict` does
/// not compile on the multi-backend connection, and the caller holds the organization lock.
pub fn set(conn: &mut DbConn, row: &TierWaitRow) -> Q<()> {
    super::held::note_wait(&row.org_id);
    remove(conn, &row.org_id, &row.user_id)?;
    diesel::insert_into(tier_waits::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Remove the wait of a user; true when there was one.
pub fn remove(conn: &mut DbConn, org_id: &str, user_id: &str) -> Q<bool> {
    let n = diesel::delete(
        tier_waits::table
            .filter(tier_waits::org_id.eq(org_id))
            .filter(tier_waits::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Remove the wait of a user and return it, in one statement (a deactivation ends a wait
/// that is nearly never there: one round trip, not a read and then a delete).
pub fn take(conn: &mut DbConn, org_id: &str, user_id: &str) -> Q<Option<TierWaitRow>> {
    // Nobody waits (most organizations, `held` knows): nothing to take.
    if super::held::has_waits(conn, org_id)? == Some(false) {
        return Ok(None);
    }
    super::cached::native!(conn, |c| diesel::delete(
        tier_waits::table
            .filter(tier_waits::org_id.eq(org_id))
            .filter(tier_waits::user_id.eq(user_id)),
    )
    .returning(TierWaitRow::as_select())
    .get_result(c)
    .optional())
}

/// True when anyone in the organization waits for a tier: one read, where serving the waits
/// asks each tier in turn.
pub fn any(conn: &mut DbConn, org_id: &str) -> Q<bool> {
    if let Some(any) = super::held::has_waits(conn, org_id)? {
        return Ok(any);
    }
    diesel::select(diesel::dsl::exists(
        tier_waits::table.filter(tier_waits::org_id.eq(org_id)),
    ))
    .get_result(conn)
}

/// The oldest wait of the organization for `tier`.
pub fn oldest_for(conn: &mut DbConn, org_id: &str, tier: &str) -> Q<Option<TierWaitRow>> {
    tier_waits::table
        .filter(tier_waits::org_id.eq(org_id))
        .filter(tier_waits::tier.eq(tier))
        .order(tier_waits::seq.asc())
        .select(TierWaitRow::as_select())
        .first(conn)
        .optional()
}

/// Every wait of the organization, oldest first (at most one per user, so bounded by the
/// number of seats).
pub fn for_org(conn: &mut DbConn, org_id: &str) -> Q<Vec<TierWaitRow>> {
    tier_waits::table
        .filter(tier_waits::org_id.eq(org_id))
        .order(tier_waits::seq.asc())
        .select(TierWaitRow::as_select())
        .load(conn)
}

/// Waits per tier, for the seats-needed figure.
pub fn count_by_tier(conn: &mut DbConn, org_id: &str) -> Q<Vec<(String, i64)>> {
    tier_waits::table
        .filter(tier_waits::org_id.eq(org_id))
        .group_by(tier_waits::tier)
        .select((tier_waits::tier, count_star()))
        .load(conn)
}

/// Waits with the waiting user's userName, oldest first, for the report.
pub fn with_names(
    conn: &mut DbConn,
    org_id: &str,
) -> Q<Vec<(TierWaitRow, String, Option<String>)>> {
    tier_waits::table
        .inner_join(scim_users::table)
        .filter(tier_waits::org_id.eq(org_id))
        .order(tier_waits::seq.asc())
        .select((
            TierWaitRow::as_select(),
            scim_users::user_name,
            scim_users::seat_tier,
        ))
        .load(conn)
}
