//! Tier moves and tier waits: bringing users to the tier their groups ask for (the rules and
//! their precedence are described in `seat_policy`). Called by the seat engine while it claims
//! and drains, and by the use cases that change groups or rules; it calls neither back, so it
//! runs inside their transaction after they took the organization lock.

use serde_json::json;

use crate::domain::seat_decisions::Decided;
use crate::domain::seats::inventory::{save, seat_state, STATUS_ACTIVE};
use crate::domain::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, tier_waits::TierWaitRow, users::UserRow, DbConn};

/// The tier a user's groups ask for: premium if any of them maps to premium, else standard if
/// any maps to standard, else none (the highest free tier then).
pub fn preferred_tier(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
) -> Result<Option<Tier>, Error> {
    let tiers: Vec<Tier> = store::seat_policy::tiers_of_user(conn, org_id, user_id)?
        .iter()
        .filter_map(|t| Tier::parse(t))
        .collect();
    // Tier::ALL is highest first.
    Ok(Tier::ALL.into_iter().find(|t| tiers.contains(t)))
}

/// The tier each of `user_ids` asks for through its groups (same rule as `preferred_tier`),
/// in one query; users without a mapped group are absent.
pub fn preferred_tiers(
    conn: &mut DbConn,
    org_id: &str,
    user_ids: &[String],
) -> Result<std::collections::HashMap<String, Tier>, Error> {
    let mut out: std::collections::HashMap<String, Tier> = std::collections::HashMap::new();
    for (user, tier) in store::seat_policy::tiers_of_users(conn, org_id, user_ids)? {
        let Some(t) = Tier::parse(&tier) else {
            continue;
        };
        // Tier::ALL is highest first: keep the higher of the tiers seen.
        let better = out.get(&user).is_none_or(|cur| {
            Tier::ALL.iter().position(|x| *x == t) < Tier::ALL.iter().position(|x| x == cur)
        });
        if better {
            out.insert(user, t);
        }
    }
    Ok(out)
}

/// Bring each of `user_ids` to the tier its groups ask for, or record what it waits for
/// (see `seat_policy`). `seq` is this use case's first-come number (`inventory::lock_org`),
/// which the caller holds. Returns true when a seat was freed or a wait started: the caller
/// then drains (which serves waits first, so two users waiting for each other's tier swap).
pub fn apply(
    conn: &mut DbConn,
    org_id: &str,
    seq: i64,
    user_ids: &[String],
    actor: &Actor,
) -> Result<bool, Error> {
    let mut changed = false;
    for id in user_ids {
        let Some(mut row) = store::users::find(conn, org_id, id)? else {
            continue;
        };
        let wanted = preferred_tier(conn, org_id, id)?;
        let held = seated(&row);
        match (held, wanted) {
            (Some(held), Some(want)) if held != want => {
                if store::seats::try_claim(conn, org_id, want.as_str(), store::now())? {
                    change_tier(conn, &mut row, held, want, "group policy", actor)?;
                    end_wait(conn, &row, None, actor)?;
                    changed = true;
                } else {
                    changed |= start_wait(conn, &row, want, seq, actor)?;
                }
            }
            // Pending users wait in the queue; inactive ones wait for nothing; a seated user
            // whose groups ask for its tier, or for nothing, keeps it.
            _ => end_wait(conn, &row, None, actor)?,
        }
    }
    Ok(changed)
}

/// The tier `row` holds a seat of, if it is seated.
fn seated(row: &UserRow) -> Option<Tier> {
    (row.seat_status == STATUS_ACTIVE)
        .then(|| row.seat_tier.as_deref().and_then(Tier::parse))
        .flatten()
}

/// Move a seated user from `from` to `to`: the caller has already claimed the `to` seat;
/// this releases the `from` seat (the caller drains), writes the row and audits the move.
fn change_tier(
    conn: &mut DbConn,
    row: &mut UserRow,
    from: Tier,
    to: Tier,
    reason: &str,
    actor: &Actor,
) -> Result<(), Error> {
    if !store::seats::release(conn, &row.org_id, from.as_str(), store::now())? {
        return Err(Error::Internal(anyhow::anyhow!(
            "seat pool {from} of org {} had no claimed seat to release",
            row.org_id
        )));
    }
    let before = seat_state(row);
    row.seat_tier = Some(to.as_str().into());
    save(conn, row)?;
    actor.note(row, Decided::TierChanged { from, to });
    audit::record(
        conn,
        &row.org_id,
        actor,
        "user.tier_changed",
        Some(&row.id),
        json!({"from": from.as_str(), "to": to.as_str(), "reason": reason,
               "before": before, "after": seat_state(row)}),
    )?;
    Ok(())
}

/// Record that seated user `row` waits for a seat of `tier` (kept, with its place, when it
/// already waits for that tier).
fn start_wait(
    conn: &mut DbConn,
    row: &UserRow,
    tier: Tier,
    seq: i64,
    actor: &Actor,
) -> Result<bool, Error> {
    let current = store::tier_waits::find(conn, &row.org_id, &row.id)?;
    if current.as_ref().is_some_and(|w| w.tier == tier.as_str()) {
        return Ok(false);
    }
    store::tier_waits::set(
        conn,
        &TierWaitRow {
            org_id: row.org_id.clone(),
            user_id: row.id.clone(),
            tier: tier.as_str().into(),
            seq,
            since: store::now(),
        },
    )?;
    actor.note(row, Decided::WaitsFor(tier));
    audit::record(
        conn,
        &row.org_id,
        actor,
        "tier.wait_started",
        Some(&row.id),
        json!({"tier": tier.as_str(), "holding": row.seat_tier, "reason": format!("no free {tier} seat")}),
    )?;
    Ok(true)
}

/// End the wait of `row`, if it has one; `served` names the tier it got.
fn end_wait(
    conn: &mut DbConn,
    row: &UserRow,
    served: Option<Tier>,
    actor: &Actor,
) -> Result<(), Error> {
    let Some(wait) = store::tier_waits::take(conn, &row.org_id, &row.id)? else {
        return Ok(());
    };
    audit::record(
        conn,
        &row.org_id,
        actor,
        "tier.wait_ended",
        Some(&row.id),
        json!({"tier": wait.tier, "served": served.is_some(), "since": wait.since}),
    )?;
    Ok(())
}

/// After a pending or reactivated user got a seat of `got`: when its groups ask for another
/// tier, it waits for that one, its place being `seq` (when it arrived).
pub fn after_claim(
    conn: &mut DbConn,
    row: &UserRow,
    got: Tier,
    wanted: Option<Tier>,
    seq: i64,
    actor: &Actor,
) -> Result<(), Error> {
    match wanted {
        Some(w) if w != got => start_wait(conn, row, w, seq, actor).map(|_| ()),
        _ => end_wait(conn, row, None, actor),
    }
}

/// A user leaves seat use (deactivated, deleted, removed): its wait ends.
pub fn forget_wait(conn: &mut DbConn, row: &UserRow, actor: &Actor) -> Result<(), Error> {
    end_wait(conn, row, None, actor)
}

/// Serve tier waits, oldest first, while seats allow: a free seat of the tier waited for, or
/// a swap with a user waiting for the other tier. Each move by a free seat frees a seat of the
/// other tier, which the caller's drain then gives to the queue. Runs under the caller's
/// organization lock.
pub fn serve_waits(conn: &mut DbConn, org_id: &str, actor: &Actor) -> Result<(), Error> {
    if !store::tier_waits::any(conn, org_id)? {
        return Ok(());
    }
    loop {
        let mut progressed = false;
        for tier in Tier::ALL {
            while let Some(wait) = store::tier_waits::oldest_for(conn, org_id, tier.as_str())? {
                let Some(mut row) = store::users::find(conn, org_id, &wait.user_id)? else {
                    store::tier_waits::remove(conn, org_id, &wait.user_id)?;
                    continue;
                };
                let held = match seated(&row) {
                    Some(h) if h != tier => h,
                    // No longer seated, or already there: nothing to wait for.
                    _ => {
                        end_wait(conn, &row, seated(&row), actor)?;
                        continue;
                    }
                };
                if store::seats::try_claim(conn, org_id, tier.as_str(), store::now())? {
                    change_tier(conn, &mut row, held, tier, "tier wait served", actor)?;
                    end_wait(conn, &row, Some(tier), actor)?;
                    progressed = true;
                    continue;
                }
                // With two tiers, a wait for the tier `row` holds is a user holding `tier`.
                let Some(other) = store::tier_waits::oldest_for(conn, org_id, held.as_str())?
                else {
                    break;
                };
                let Some(mut partner) = store::users::find(conn, org_id, &other.user_id)? else {
                    store::tier_waits::remove(conn, org_id, &other.user_id)?;
                    continue;
                };
                if seated(&partner) != Some(tier) {
                    end_wait(conn, &partner, seated(&partner), actor)?;
                    continue;
                }
                swap(conn, &mut row, &mut partner, actor)?;
                progressed = true;
            }
        }
        if !progressed {
            return Ok(());
        }
    }
}

/// Two seated users each waiting for the other's tier trade seats; seat counts do not change.
fn swap(conn: &mut DbConn, a: &mut UserRow, b: &mut UserRow, actor: &Actor) -> Result<(), Error> {
    let (ta, tb) = (a.seat_tier.clone(), b.seat_tier.clone());
    let (ida, idb) = (a.id.clone(), b.id.clone());
    for (row, from, to, with) in [(&mut *a, &ta, &tb, idb), (&mut *b, &tb, &ta, ida)] {
        let before = seat_state(row);
        row.seat_tier = to.clone();
        save(conn, row)?;
        if let (Some(from), Some(to)) = (
            from.as_deref().and_then(Tier::parse),
            to.as_deref().and_then(Tier::parse),
        ) {
            actor.note(row, Decided::TierChanged { from, to });
        }
        audit::record(
            conn,
            &row.org_id,
            actor,
            "user.tier_changed",
            Some(&row.id),
            json!({"from": from, "to": to, "reason": "tier wait served by a swap", "with": with,
                   "before": before, "after": seat_state(row)}),
        )?;
    }
    end_wait(conn, a, seated(a), actor)?;
    end_wait(conn, b, seated(b), actor)?;
    Ok(())
}
