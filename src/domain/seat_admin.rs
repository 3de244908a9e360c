//! Seat administration of SCIM users: removal by an admin and assigning a seat back. (Org
//! members with roles live in `members.rs`.)
//!
//! Removal by an admin takes the user out of seat use without touching `active`: that value
//! belongs to the IdP, which would "repair" a flipped value on its next sync. The user shows
//! `status: inactive` in the seat extension and keeps the `active` the IdP sent. It gets a seat
//! again only when the IdP reactivates it (`active` false → true) or an admin assigns one
//! (`assign_seat`); an IdP update that leaves `active` true does not undo a removal.

use serde_json::json;

use super::seats;
use super::seats::inventory::{self, load, save, seat_state, STATUS_INACTIVE};
use super::users::{self, UserView};
use super::{audit, Actor};
use crate::error::Error;
use crate::store::DbConn;

/// Take a SCIM user out of seat use: an active user's seat is released and goes, in this
/// transaction, to the head of the queue; a pending user leaves the queue. Removing an
/// already inactive user changes nothing.
#[tracing::instrument(skip_all, fields(org = %org_id, user_id = %user_id))]
pub fn remove_from_seats(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    actor: &Actor,
) -> Result<UserView, Error> {
    inventory::lock_org(conn, org_id)?;
    let mut row = load(conn, org_id, user_id)?;
    if row.seat_status != STATUS_INACTIVE {
        let before = seat_state(&row);
        let freed = seats::vacate(conn, &mut row, actor)?;
        save(conn, &mut row)?;
        audit::record(
            conn,
            org_id,
            actor,
            "member.removed",
            Some(user_id),
            json!({"active": row.active, "before": before, "after": seat_state(&row)}),
        )?;
        if freed {
            seats::drain(conn, org_id, actor)?;
        }
    }
    users::get(conn, org_id, user_id, true)
}

/// Give a removed member a seat again (highest free tier, or the group's tier), or queue it
/// at the back. Refused while the IdP has the user deactivated: the IdP's word wins.
#[tracing::instrument(skip_all, fields(org = %org_id, user_id = %user_id))]
pub fn assign_seat(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    actor: &Actor,
) -> Result<UserView, Error> {
    let seq = inventory::lock_org(conn, org_id)?;
    let mut row = load(conn, org_id, user_id)?;
    if row.seat_status != STATUS_INACTIVE {
        return Err(Error::Conflict(format!(
            "the user is already {}",
            row.seat_status
        )));
    }
    if !row.active {
        return Err(Error::Conflict(
            "the identity provider has deactivated this user; it gets a seat when the IdP reactivates it"
                .into(),
        ));
    }
    let before = seat_state(&row);
    seats::claim_or_queue_by_policy(conn, &mut row, seq, actor)?;
    save(conn, &mut row)?;
    audit::record(
        conn,
        org_id,
        actor,
        "member.seat_assigned",
        Some(user_id),
        json!({"before": before, "after": seat_state(&row)}),
    )?;
    users::get(conn, org_id, user_id, true)
}
