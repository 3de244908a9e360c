//! Group tier policy: an organization maps IdP groups to the seat tier their members should
//! get. Groups are named by their SCIM `id`, not `displayName`: IdPs rename groups, and an id
//! is unique where display names need not be.
//!
//! Precedence: a user in several mapped groups asks for the highest of their tiers (premium
//! over standard). Only direct memberships count.
//!
//! The policy acts whenever the tier a user asks for may change: a group membership change
//! (IdPs create the user first and push groups afterwards), a rule set or removed, a group
//! deleted. A seated user is moved to the tier it asks for when a seat of that tier is free;
//! otherwise it keeps its seat and a *tier wait* is recorded, served first-come (before the
//! pending queue drains, since each move frees a seat of the other tier for the queue) when a
//! seat of that tier frees up or is bought. Two users each waiting for the other's tier swap.
//! A pending user needs no wait row: its tier is looked up when the queue drains, and if only
//! another tier is free it takes that seat and waits for its own. A user whose groups ask for
//! nothing keeps the tier it has; its wait, if any, ends. Every move is audited as
//! `user.tier_changed`, every wait as `tier.wait_started` / `tier.wait_ended`.

use serde_json::json;

use super::seat_admin::save;
use super::seat_decisions::Decided;
use super::seats::{seat_state, STATUS_ACTIVE};
use super::{audit, seats, Actor, Tier};
use crate::error::Error;
use crate::store::{
    self, seat_policy::GroupTierRow, tier_waits::TierWaitRow, users::UserRow, DbConn,
};

/// Map `group_id` to `tier`, or remove its rule with `None`. One use case, one transaction:
/// the caller opens it (`Db::write`).
#[tracing::instrument(skip_all, fields(org = %org_id, group_id = %group_id))]
pub fn set_group_tier(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    tier: Option<Tier>,
    actor: &Actor,
) -> Result<(), Error> {
    // Serialises with claims and drains, which read the rules.
    let seq = seats::lock_org(conn, org_id)?;
    if store::groups::find(conn, org_id, group_id)?.is_none() {
        return Err(Error::not_found("Group"));
    }
    let before = store::seat_policy::find(conn, org_id, group_id)?.map(|r| r.tier);
    match tier {
        Some(t) => store::seat_policy::set(
            conn,
            &GroupTierRow {
                org_id: org_id.to_string(),
                group_id: group_id.to_string(),
                tier: t.as_str().to_string(),
                created_at: store::now(),
            },
        )?,
        None => {
            store::seat_policy::remove(conn, org_id, group_id)?;
        }
    }
    audit::record(
        conn,
        org_id,
        actor,
        "policy.group_tier",
        Some(group_id),
        json!({"before": before, "after": tier.map(Tier::as_str)}),
    )?;
    let members = store::seat_policy::user_members(conn, org_id, group_id)?;
    if apply(conn, org_id, seq, &members, actor)? {
        seats::drain(conn, org_id, actor)?;
    }
    Ok(())
}

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

/// The rules of an organization as `(group id, tier)`.
pub fn group_tiers(conn: &mut DbConn, org_id: &str) -> Result<Vec<(String, Tier)>, Error> {
    Ok(store::seat_policy::for_org(conn, org_id)?
        .into_iter()
        .filter_map(|r| Tier::parse(&r.tier).map(|t| (r.group_id, t)))
        .collect())
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
/// (see the module notes). `seq` is this use case's first-come number (`seats::lock_org`),
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
    let Some(wait) = store::tier_waits::find(conn, &row.org_id, &row.id)? else {
        return Ok(());
    };
    store::tier_waits::remove(conn, &row.org_id, &row.id)?;
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

/// A tier wait as the reports show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TierWait {
    pub user_id: String,
    pub user_name: String,
    pub holding: Option<String>,
    pub waiting_for: String,
    pub since: chrono::NaiveDateTime,
}

/// Every tier wait of the organization, first-come order.
pub fn tier_waits(conn: &mut DbConn, org_id: &str) -> Result<Vec<TierWait>, Error> {
    Ok(store::tier_waits::with_names(conn, org_id)?
        .into_iter()
        .map(|(w, user_name, holding)| TierWait {
            user_id: w.user_id,
            user_name,
            holding,
            waiting_for: w.tier,
            since: w.since,
        })
        .collect())
}

/// A rule as the owner API and CLI show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupTierRule {
    pub group_id: String,
    pub group: String,
    pub tier: String,
    /// Users directly in the group.
    pub members: i64,
    pub created_at: chrono::NaiveDateTime,
}

/// The rules of an organization (by group displayName) and its tier waits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Policy {
    /// Highest first: a user in several mapped groups asks for the first of its tiers here.
    pub precedence: [Tier; 2],
    pub rules: Vec<GroupTierRule>,
    pub waits: Vec<TierWait>,
}

pub fn policy(conn: &mut DbConn, org_id: &str) -> Result<Policy, Error> {
    let rules = store::seat_policy::for_org_named(conn, org_id)?
        .into_iter()
        .map(|(r, group, members)| GroupTierRule {
            group_id: r.group_id,
            group,
            tier: r.tier,
            members,
            created_at: r.created_at,
        })
        .collect();
    Ok(Policy {
        precedence: Tier::ALL,
        rules,
        waits: tier_waits(conn, org_id)?,
    })
}

/// Set a rule and return it as listed.
pub fn put_rule(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    tier: Tier,
    actor: &Actor,
) -> Result<GroupTierRule, Error> {
    set_group_tier(conn, org_id, group_id, Some(tier), actor)?;
    policy(conn, org_id)?
        .rules
        .into_iter()
        .find(|r| r.group_id == group_id)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("rule of group {group_id} not written")))
}

/// Remove the rule of a group: 404 when it has none.
pub fn remove_rule(
    conn: &mut DbConn,
    org_id: &str,
    group_id: &str,
    actor: &Actor,
) -> Result<(), Error> {
    if store::seat_policy::find(conn, org_id, group_id)?.is_none() {
        return Err(Error::not_found("group tier rule"));
    }
    set_group_tier(conn, org_id, group_id, None, actor)
}

/// A group of the organization named by id or (case-insensitively) by displayName, for the
/// CLI: an id wins; a displayName several groups share is refused.
pub fn resolve_group(conn: &mut DbConn, org_id: &str, name: &str) -> Result<String, Error> {
    if let Some(g) = store::groups::find(conn, org_id, name)? {
        return Ok(g.id);
    }
    let ids = store::groups::ids_by_display_name(conn, org_id, &name.to_lowercase())?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::not_found("Group")),
        _ => Err(Error::Conflict(format!(
            "{} groups are named '{name}': name one by its id",
            ids.len()
        ))),
    }
}
