//! Group tier policy: an organization maps IdP groups to the seat tier their members should
//! get. Groups are named by their SCIM `id`, not `displayName`: IdPs rename groups, and an id
//! is unique where display names need not be.
//!
//! The preferred tier applies whenever a user is given a seat — on create, on reactivation and
//! when the queue drains (memberships usually arrive after the user, so most pending users get
//! their group's tier at drain time). If the preferred tier has no free seat the user gets the
//! highest free one. Members who already hold a seat are not moved when a rule or a membership
//! changes; an admin moves them with `reassign::move_tier`. Only direct memberships count.

use serde_json::json;

use super::{audit, seats, Actor, Tier};
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
    seats::lock_org(conn, org_id)?;
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
