//! Seat pools: one row per organization and tier, `0 <= claimed <= purchased` enforced by a
//! CHECK constraint and by the guarded updates below.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native};
use super::schema::seat_pools;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = seat_pools)]
pub struct PoolRow {
    pub org_id: String,
    pub tier: String,
    pub purchased: i64,
    pub claimed: i64,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &PoolRow) -> Q<()> {
    super::held::flush(conn, &row.org_id)?;
    diesel::insert_into(seat_pools::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn for_org(conn: &mut DbConn, org_id: &str) -> Q<Vec<PoolRow>> {
    if let Some(pools) = super::held::pools(conn, org_id)? {
        return Ok(pools
            .into_iter()
            .map(|p| PoolRow {
                org_id: org_id.to_string(),
                tier: p.tier,
                purchased: p.purchased,
                claimed: p.claimed,
                updated_at: p.updated_at,
            })
            .collect());
    }
    seat_pools::table
        .filter(seat_pools::org_id.eq(org_id))
        .order(seat_pools::tier.asc())
        .select(PoolRow::as_select())
        .load(conn)
}

/// Take one seat of `tier` if one is free; true when taken. The claim statement with that
/// tier alone, so two concurrent claims can never both take the last seat.
pub fn try_claim(conn: &mut DbConn, org_id: &str, tier: &str, now: NaiveDateTime) -> Q<bool> {
    Ok(claim_first_free(conn, org_id, [tier, tier], now)?.is_some())
}

/// The tier `claim_first_free` took.
#[derive(QueryableByName)]
struct ClaimedTier {
    #[diesel(sql_type = diesel::sql_types::Text)]
    tier: String,
}

/// `claim_first_free`'s statement. `$n` parameters work on both backends: SQLite numbers a
/// named parameter by its first appearance, and these first appear in order.
const CLAIM_FIRST_FREE: &str = "UPDATE seat_pools SET claimed = claimed + 1, updated_at = $1 \
     WHERE org_id = $2 AND claimed < purchased AND tier = CASE WHEN EXISTS (\
         SELECT 1 FROM seat_pools WHERE org_id = $2 AND tier = $3 AND claimed < purchased) \
     THEN $3 ELSE $4 END \
     RETURNING tier";

/// Take one seat of the first of the two tiers in `order` that has one free; the tier
/// taken, or None when both are full. One guarded statement, however full the tiers are:
/// a create pays for one seat-pool statement, not one per tier tried, and two concurrent
/// claims can never both take the last seat.
pub fn claim_first_free(
    conn: &mut DbConn,
    org_id: &str,
    order: [&str; 2],
    now: NaiveDateTime,
) -> Q<Option<String>> {
    use diesel::sql_types::{Text, Timestamp};
    if let Some(taken) = super::held::claim_first_free(conn, org_id, order, now)? {
        return Ok(taken);
    }
    let claimed = native!(conn, |c| cached!(diesel::sql_query(CLAIM_FIRST_FREE)
        .bind::<Timestamp, _>(super::sqlite::Ts(now))
        .bind::<Text, _>(org_id)
        .bind::<Text, _>(order[0])
        .bind::<Text, _>(order[1]))
    .get_result::<ClaimedTier>(c)
    .optional())?;
    Ok(claimed.map(|c| c.tier))
}

/// Give one seat of `tier` back; true when a claimed seat was released.
pub fn release(conn: &mut DbConn, org_id: &str, tier: &str, now: NaiveDateTime) -> Q<bool> {
    if let Some(released) = super::held::release(conn, org_id, tier, now)? {
        return Ok(released);
    }
    let n = native!(conn, |c| cached!(diesel::update(
        seat_pools::table
            .filter(seat_pools::org_id.eq(org_id))
            .filter(seat_pools::tier.eq(tier))
            .filter(seat_pools::claimed.gt(0)),
    )
    .set((
        seat_pools::claimed.eq(seat_pools::claimed - 1),
        seat_pools::updated_at.eq(now),
    )))
    .rows(c))?;
    Ok(n == 1)
}

/// Raise the purchased count of a tier (never lowers it).
pub fn add_purchased(
    conn: &mut DbConn,
    org_id: &str,
    tier: &str,
    n: i64,
    now: NaiveDateTime,
) -> Q<()> {
    super::held::flush(conn, org_id)?;
    diesel::update(
        seat_pools::table
            .filter(seat_pools::org_id.eq(org_id))
            .filter(seat_pools::tier.eq(tier)),
    )
    .set((
        seat_pools::purchased.eq(seat_pools::purchased + n),
        seat_pools::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|_| ())
}

/// True when any tier has an unclaimed seat.
pub fn any_free(conn: &mut DbConn, org_id: &str) -> Q<bool> {
    if let Some(pools) = super::held::pools(conn, org_id)? {
        return Ok(pools.iter().any(|p| p.claimed < p.purchased));
    }
    let n: i64 = seat_pools::table
        .filter(seat_pools::org_id.eq(org_id))
        .filter(seat_pools::claimed.lt(seat_pools::purchased))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
