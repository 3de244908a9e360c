//! Seat pool changes billing makes besides claims: upgrades (members by seniority, lowering a
//! tier) and the lapse of unclaimed seats at a renewal.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{scim_users, seat_pools};
use super::{users::UserRow, DbConn, Q};

/// Active members of a tier, longest-seated first (ties by id, so the choice is stable).
pub fn seated_by_seniority(
    conn: &mut DbConn,
    org_id: &str,
    tier: &str,
    limit: i64,
) -> Q<Vec<UserRow>> {
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::seat_status.eq("active"))
        .filter(scim_users::seat_tier.eq(tier))
        .order((scim_users::seated_at.asc(), scim_users::id.asc()))
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)
}

/// Lower the purchased count of a tier by `n`, only if that keeps `claimed <= purchased`;
/// true when lowered. Used by upgrades only after the members above the new count moved.
pub fn remove_purchased(
    conn: &mut DbConn,
    org_id: &str,
    tier: &str,
    n: i64,
    now: NaiveDateTime,
) -> Q<bool> {
    super::held::flush(conn, org_id)?;
    let updated = diesel::update(
        seat_pools::table
            .filter(seat_pools::org_id.eq(org_id))
            .filter(seat_pools::tier.eq(tier))
            .filter(seat_pools::purchased.ge(seat_pools::claimed + n)),
    )
    .set((
        seat_pools::purchased.eq(seat_pools::purchased - n),
        seat_pools::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Let unclaimed seats lapse at a renewal: `purchased = claimed` for every tier.
pub fn lapse_unclaimed(conn: &mut DbConn, org_id: &str, now: NaiveDateTime) -> Q<()> {
    super::held::flush(conn, org_id)?;
    diesel::update(seat_pools::table.filter(seat_pools::org_id.eq(org_id)))
        .set((
            seat_pools::purchased.eq(seat_pools::claimed),
            seat_pools::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}
