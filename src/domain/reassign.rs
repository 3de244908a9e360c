//! Reassignment: an admin moves a member to another tier, swaps the tiers of two members, or
//! gives a member's seat to a pending user. Each is one use case in one transaction that
//! takes the organization lock first and writes before/after to the audit log.
//!
//! Giving a seat away puts the member it was taken from at the BACK of the queue (pending,
//! with a fresh first-come number): nobody loses access without being queued for it, and
//! nobody jumps ahead of those already waiting. Converting standard seats to premium is not
//! here (see `seat_upgrade`).

use serde_json::json;

use super::seats;
use super::seats::inventory::{self, load, save, seat_state, STATUS_ACTIVE, STATUS_PENDING};
use super::users::{self, UserView};
use super::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

fn seated_tier(row: &UserRow) -> Result<Tier, Error> {
    if row.seat_status != STATUS_ACTIVE {
        return Err(Error::Conflict(format!(
            "user {} holds no seat (it is {})",
            row.id, row.seat_status
        )));
    }
    row.seat_tier
        .as_deref()
        .and_then(Tier::parse)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("active user {} has no tier", row.id)))
}

/// Move a member to a free seat of tier `to`; its old seat is freed and drains the queue.
/// Moving to the tier it already has changes nothing.
#[tracing::instrument(skip_all, fields(org = %org_id, user_id = %user_id))]
pub fn move_tier(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    to: Tier,
    actor: &Actor,
) -> Result<UserView, Error> {
    inventory::lock_org(conn, org_id)?;
    let mut row = load(conn, org_id, user_id)?;
    let from = seated_tier(&row)?;
    if from == to {
        return users::get(conn, org_id, user_id, true);
    }
    let now = store::now();
    if !store::seats::try_claim(conn, org_id, to.as_str(), now)? {
        return Err(Error::Conflict(format!(
            "no {to} seat is free: buy one, or swap with a {to} member"
        )));
    }
    if !store::seats::release(conn, org_id, from.as_str(), now)? {
        return Err(Error::Internal(anyhow::anyhow!(
            "seat pool {from} of org {org_id} had no claimed seat to release"
        )));
    }
    let before = seat_state(&row);
    row.seat_tier = Some(to.as_str().into());
    save(conn, &mut row)?;
    audit::record(
        conn,
        org_id,
        actor,
        "seat.moved",
        Some(user_id),
        json!({"from": from.as_str(), "to": to.as_str(), "before": before, "after": seat_state(&row)}),
    )?;
    seats::drain(conn, org_id, actor)?;
    users::get(conn, org_id, user_id, true)
}

/// Swap the tiers of two members holding seats of different tiers. Seat counts do not change.
#[tracing::instrument(skip_all, fields(org = %org_id))]
pub fn swap_tiers(
    conn: &mut DbConn,
    org_id: &str,
    a_id: &str,
    b_id: &str,
    actor: &Actor,
) -> Result<(UserView, UserView), Error> {
    if a_id == b_id {
        return Err(Error::BadRequest("cannot swap a member with itself".into()));
    }
    inventory::lock_org(conn, org_id)?;
    let mut a = load(conn, org_id, a_id)?;
    let mut b = load(conn, org_id, b_id)?;
    let (ta, tb) = (seated_tier(&a)?, seated_tier(&b)?);
    if ta == tb {
        return Err(Error::Conflict(format!(
            "both members hold a {ta} seat: nothing to swap"
        )));
    }
    let (before_a, before_b) = (seat_state(&a), seat_state(&b));
    a.seat_tier = Some(tb.as_str().into());
    b.seat_tier = Some(ta.as_str().into());
    save(conn, &mut a)?;
    save(conn, &mut b)?;
    for (row, before, other) in [(&a, before_a, b_id), (&b, before_b, a_id)] {
        audit::record(
            conn,
            org_id,
            actor,
            "seat.swapped",
            Some(&row.id),
            json!({"with": other, "before": before, "after": seat_state(row)}),
        )?;
    }
    Ok((
        users::get(conn, org_id, a_id, true)?,
        users::get(conn, org_id, b_id, true)?,
    ))
}

/// Take the seat of member `from_id` and give it to pending user `to_id`, who leaves the
/// queue with the same tier; `from_id` becomes pending at the back of the queue. Returns
/// `(from, to)`.
#[tracing::instrument(skip_all, fields(org = %org_id))]
pub fn give_seat(
    conn: &mut DbConn,
    org_id: &str,
    from_id: &str,
    to_id: &str,
    actor: &Actor,
) -> Result<(UserView, UserView), Error> {
    if from_id == to_id {
        return Err(Error::BadRequest(
            "cannot give a member's seat to itself".into(),
        ));
    }
    let seq = inventory::lock_org(conn, org_id)?;
    let mut from = load(conn, org_id, from_id)?;
    let mut to = load(conn, org_id, to_id)?;
    let tier = seated_tier(&from)?;
    if to.seat_status != STATUS_PENDING {
        return Err(Error::Conflict(format!(
            "user {to_id} is not pending (it is {}); only a pending user can be given a seat",
            to.seat_status
        )));
    }
    let now = store::now();
    let (before_from, before_to) = (seat_state(&from), seat_state(&to));
    // The seat changes hands: the pool's claimed count stays the same.
    seats::set_active(&mut to, tier, now);
    seats::set_pending(&mut from, seq, now);
    save(conn, &mut from)?;
    save(conn, &mut to)?;
    audit::record(
        conn,
        org_id,
        actor,
        "seat.reassigned",
        Some(to_id),
        json!({"tier": tier.as_str(), "from": from_id, "before": before_to, "after": seat_state(&to)}),
    )?;
    audit::record(
        conn,
        org_id,
        actor,
        "user.queued",
        Some(from_id),
        json!({
            "reason": "seat given to another user",
            "to": to_id,
            "source": from.source,
            "before": before_from,
            "after": seat_state(&from),
        }),
    )?;
    // Nothing was freed, so this finds no free seat; it keeps the invariant explicit.
    seats::drain(conn, org_id, actor)?;
    Ok((
        users::get(conn, org_id, from_id, true)?,
        users::get(conn, org_id, to_id, true)?,
    ))
}
