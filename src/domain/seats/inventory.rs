//! What an organization's seats are and who holds them: the organization lock every seat
//! use case takes first, the per-tier inventory, and a user's seat state. The bottom of the
//! seat modules (`seats`, `tier_moves`, `alerts` and the use cases all build on it), so it
//! uses none of them.

use serde::Serialize;

use crate::domain::Tier;
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_PENDING: &str = "pending";
pub const STATUS_INACTIVE: &str = "inactive";

/// Lock the organization for this transaction; returns a fresh first-come number.
pub fn lock_org(conn: &mut DbConn, org_id: &str) -> Result<i64, Error> {
    lock_org_counting(conn, org_id, 0)
}

/// `lock_org` for a use case that adds one user to the organization: counts it into the
/// organization's user total in the same statement. The count rolls back with the create
/// if that fails.
pub fn lock_org_adding_user(conn: &mut DbConn, org_id: &str) -> Result<i64, Error> {
    lock_org_counting(conn, org_id, 1)
}

fn lock_org_counting(conn: &mut DbConn, org_id: &str, new_users: i64) -> Result<i64, Error> {
    store::orgs::lock_and_next_seq(conn, org_id, new_users).map_err(|e| match e {
        diesel::result::Error::NotFound => Error::not_found("organization"),
        e => e.into(),
    })
}

/// The seat state of a user as the audit log records it (`before` / `after`). Fields in
/// the order `json!` would sort them, so the recorded text is the same either way.
#[derive(Debug, Clone, Serialize)]
pub struct SeatState {
    #[serde(rename = "pendingSince")]
    pending_since: Option<chrono::NaiveDateTime>,
    #[serde(rename = "queueSeq")]
    queue_seq: Option<i64>,
    status: String,
    tier: Option<String>,
}

pub fn seat_state(user: &UserRow) -> SeatState {
    SeatState {
        pending_since: user.pending_since,
        queue_seq: user.queue_seq,
        status: user.seat_status.clone(),
        tier: user.seat_tier.clone(),
    }
}

/// Load a user of the organization, or 404.
pub(crate) fn load(conn: &mut DbConn, org_id: &str, user_id: &str) -> Result<UserRow, Error> {
    store::users::find(conn, org_id, user_id)?.ok_or_else(|| Error::not_found("User"))
}

/// Write a row whose seat state changed: a new version, since its representation changed.
pub(crate) fn save(conn: &mut DbConn, row: &mut UserRow) -> Result<(), Error> {
    row.version += 1;
    row.updated_at = store::now();
    store::users::update(conn, row)?;
    Ok(())
}

/// Per-tier inventory.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PoolState {
    pub tier: String,
    pub purchased: i64,
    pub claimed: i64,
    pub unclaimed: i64,
}

pub fn pools(conn: &mut DbConn, org_id: &str) -> Result<Vec<PoolState>, Error> {
    let mut pools: Vec<PoolState> = store::seats::for_org(conn, org_id)?
        .into_iter()
        .map(|p| PoolState {
            unclaimed: p.purchased - p.claimed,
            tier: p.tier,
            purchased: p.purchased,
            claimed: p.claimed,
        })
        .collect();
    // Highest tier first, as everywhere else.
    pools.sort_by_key(|p| Tier::parse(&p.tier).map(|t| t != Tier::Premium));
    Ok(pools)
}
