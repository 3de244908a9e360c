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
//!
//! This module holds the rules and their use cases; the moves and waits themselves are
//! `tier_moves`, which the seat engine (`seats`) calls while claiming and draining.

use serde_json::json;

use crate::domain::{audit, seats, seats::inventory, seats::tier_moves, Actor, Tier};
use crate::error::Error;
use crate::store::{self, seat_policy::GroupTierRow, DbConn};

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
    let seq = inventory::lock_org(conn, org_id)?;
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
    if tier_moves::apply(conn, org_id, seq, &members, actor)? {
        seats::drain(conn, org_id, actor)?;
    }
    Ok(())
}

/// The rules of an organization as `(group id, tier)`.
pub fn group_tiers(conn: &mut DbConn, org_id: &str) -> Result<Vec<(String, Tier)>, Error> {
    Ok(store::seat_policy::for_org(conn, org_id)?
        .into_iter()
        .filter_map(|r| Tier::parse(&r.tier).map(|t| (r.group_id, t)))
        .collect())
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
