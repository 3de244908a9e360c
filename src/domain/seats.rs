//! The seat engine: claim the highest free tier or queue, release, and drain the queue in
//! first-come order. Every function runs inside the caller's write transaction, after the
//! caller took the organization lock (`inventory::lock_org`), so the invariants hold under concurrency:
//! `0 <= claimed <= purchased` per tier, and no seat is free while someone waits.

pub mod alerts;
pub mod inventory;
pub mod seat_policy;
pub mod tier_moves;

use serde::Serialize;
use serde_json::json;

use super::seat_decisions::Decided;
use super::seats::inventory::{
    lock_org, seat_state, SeatState, STATUS_ACTIVE, STATUS_INACTIVE, STATUS_PENDING,
};
use super::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

/// Claim a seat of the best free tier for someone (`preferred` first); None when all are full.
/// The claim and the drain share it.
fn claim_best(
    conn: &mut DbConn,
    org_id: &str,
    preferred: Option<Tier>,
    now: chrono::NaiveDateTime,
) -> Result<Option<Tier>, Error> {
    // Best first: the preferred tier (group policy) if any, then the highest.
    let [best, other] = Tier::ALL;
    let order = match preferred {
        Some(p) if p == other => [other, best],
        _ => [best, other],
    };
    let taken =
        store::seats::claim_first_free(conn, org_id, [order[0].as_str(), order[1].as_str()], now)?;
    taken
        .map(|t| {
            Tier::parse(&t).ok_or_else(|| {
                Error::Internal(anyhow::anyhow!(
                    "seat pool of unknown tier {t:?} in org {org_id}"
                ))
            })
        })
        .transpose()
}

/// The detail of a `seat.claimed` event: every create writes one, so it is serialized from
/// this struct rather than built as a `json!` map (keys in `json!`'s sorted order).
#[derive(Serialize)]
struct ClaimDetail<'a> {
    after: SeatState,
    before: SeatState,
    #[serde(rename = "preferredTier")]
    preferred_tier: Option<&'a str>,
    source: &'a str,
    tier: &'a str,
}

/// `claim_or_queue` for an existing user, preferring the tier its groups map to (see
/// `tier_moves::preferred_tier`).
pub fn claim_or_queue_by_policy(
    conn: &mut DbConn,
    user: &mut UserRow,
    seq: i64,
    actor: &Actor,
) -> Result<(), Error> {
    let preferred = tier_moves::preferred_tier(conn, &user.org_id, &user.id)?;
    claim_or_queue(conn, user, seq, preferred, actor)?;
    // Seated on another tier than its groups ask for: it waits for that one.
    if let (Some(_), Some(got)) = (preferred, user.seat_tier.as_deref().and_then(Tier::parse)) {
        tier_moves::after_claim(conn, user, got, preferred, seq, actor)?;
    }
    Ok(())
}

/// Give `user` a seat of the best free tier (`preferred` first, when it has one free), or put
/// it at the back of the queue with `seq`. Updates the row in memory; the caller writes it.
pub fn claim_or_queue(
    conn: &mut DbConn,
    user: &mut UserRow,
    seq: i64,
    preferred: Option<Tier>,
    actor: &Actor,
) -> Result<(), Error> {
    let now = store::now();
    let before = seat_state(user);
    if let Some(tier) = claim_best(conn, &user.org_id, preferred, now)? {
        set_active(user, tier, now);
        actor.note(user, Decided::Claimed(tier));
        audit::record(
            conn,
            &user.org_id,
            actor,
            "seat.claimed",
            Some(&user.id),
            ClaimDetail {
                after: seat_state(user),
                before,
                preferred_tier: preferred.map(Tier::as_str),
                source: &user.source,
                tier: tier.as_str(),
            },
        )?;
        crate::metrics::outcome(crate::metrics::Outcome::Claimed);
        alerts::after_step(conn, &user.org_id, alerts::Step::NotPending(&user.id))?;
        return Ok(());
    }
    set_pending(user, seq, now);
    actor.note(
        user,
        Decided::Queued {
            queue_seq: seq,
            position: None,
        },
    );
    audit::record(
        conn,
        &user.org_id,
        actor,
        "user.queued",
        Some(&user.id),
        json!({
            "reason": "no free seat",
            "source": user.source,
            "before": before,
            "after": seat_state(user),
        }),
    )?;
    crate::metrics::outcome(crate::metrics::Outcome::Queued);
    alerts::after_step(conn, &user.org_id, alerts::Step::Joined)?;
    Ok(())
}

/// Put `user` at the back of the queue with first-come number `seq` (from `lock_org`).
/// Updates the row in memory; the caller writes it.
pub fn set_pending(user: &mut UserRow, seq: i64, now: chrono::NaiveDateTime) {
    user.seat_status = STATUS_PENDING.into();
    user.seat_tier = None;
    user.seated_at = None;
    user.pending_since = Some(now);
    user.queue_seq = Some(seq);
}

pub fn set_active(user: &mut UserRow, tier: Tier, now: chrono::NaiveDateTime) {
    user.seat_status = STATUS_ACTIVE.into();
    user.seat_tier = Some(tier.as_str().into());
    user.seated_at = Some(now);
    user.pending_since = None;
    user.queue_seq = None;
}

/// Take `user` out of seat use: release its seat (the caller then drains) or leave the
/// queue. Returns true when a seat was freed.
pub fn vacate(conn: &mut DbConn, user: &mut UserRow, actor: &Actor) -> Result<bool, Error> {
    let now = store::now();
    let before = seat_state(user);
    tier_moves::forget_wait(conn, user, actor)?;
    let freed = match (user.seat_status.as_str(), user.seat_tier.clone()) {
        (STATUS_ACTIVE, Some(tier)) => {
            if !store::seats::release(conn, &user.org_id, &tier, now)? {
                return Err(Error::Internal(anyhow::anyhow!(
                    "seat pool {tier} of org {} had no claimed seat to release",
                    user.org_id
                )));
            }
            audit::record(
                conn,
                &user.org_id,
                actor,
                "seat.released",
                Some(&user.id),
                json!({"tier": tier, "before": before, "after": inactive_state()}),
            )?;
            if let Some(t) = Tier::parse(&tier) {
                actor.note(user, Decided::Released(t));
            }
            crate::metrics::outcome(crate::metrics::Outcome::Released);
            // No alert check here: the caller drains next, and the drain checks.
            true
        }
        (STATUS_PENDING, _) => {
            audit::record(
                conn,
                &user.org_id,
                actor,
                "user.left_queue",
                Some(&user.id),
                json!({
                    "pendingSince": user.pending_since,
                    "before": before,
                    "after": inactive_state(),
                }),
            )?;
            alerts::after_step(conn, &user.org_id, alerts::Step::NotPending(&user.id))?;
            false
        }
        _ => false,
    };
    user.seat_status = STATUS_INACTIVE.into();
    user.seat_tier = None;
    user.seated_at = None;
    user.pending_since = None;
    user.queue_seq = None;
    Ok(freed)
}

fn inactive_state() -> serde_json::Value {
    json!({"status": STATUS_INACTIVE, "tier": null, "pendingSince": null, "queueSeq": null})
}

/// Give free seats to the head of the queue, in order, until seats or waiters run out.
/// Returns the ids of the users activated.
pub fn drain(conn: &mut DbConn, org_id: &str, actor: &Actor) -> Result<Vec<String>, Error> {
    // Tier waits first: each move by a free seat frees a seat of the other tier for the queue.
    tier_moves::serve_waits(conn, org_id, actor)?;
    let mut activated = Vec::new();
    while let Some(mut head) = store::users::queue_head(conn, org_id)? {
        let now = store::now();
        // Memberships usually arrive after the user was created, so the group tier policy is
        // looked up here, when the seat is actually given.
        let preferred = tier_moves::preferred_tier(conn, org_id, &head.id)?;
        // No free seat of any tier: the rest of the queue keeps waiting, in order.
        let Some(tier) = claim_best(conn, org_id, preferred, now)? else {
            break;
        };
        let before = seat_state(&head);
        let waited_since = head.pending_since;
        let place = head.queue_seq.unwrap_or_default();
        set_active(&mut head, tier, now);
        actor.note(&head, Decided::Activated(tier));
        head.version += 1;
        head.updated_at = now;
        store::users::update(conn, &head)?;
        if preferred.is_some() {
            // Only another tier was free: it waits for its own, keeping its place.
            tier_moves::after_claim(conn, &head, tier, preferred, place, actor)?;
        }
        audit::record(
            conn,
            org_id,
            actor,
            "queue.activated",
            Some(&head.id),
            json!({
                "tier": tier.as_str(),
                "pendingSince": waited_since,
                "preferredTier": preferred.map(Tier::as_str),
                "source": head.source,
                "before": before,
                "after": seat_state(&head),
            }),
        )?;
        crate::metrics::outcome(crate::metrics::Outcome::ActivatedFromQueue);
        activated.push(head.id);
    }
    if !activated.is_empty() {
        super::events::emit_json(
            conn,
            org_id,
            super::events::QUEUE_DRAINED,
            None,
            json!({"activated": activated}),
        )?;
    }
    alerts::after_seat_change(conn, org_id)?;
    Ok(activated)
}

/// The one entry point for "seats were added" (purchase, upgrade, renewal): lock and drain.
pub fn seats_added(conn: &mut DbConn, org_id: &str, actor: &Actor) -> Result<Vec<String>, Error> {
    lock_org(conn, org_id)?;
    drain(conn, org_id, actor)
}
