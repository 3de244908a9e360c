//! Upgrades: convert N standard seats into premium seats. Standard purchased −= N, premium
//! purchased += N; where that leaves more standard members than standard seats, members move
//! up to premium — the ones named in the order first, then the longest-seated — so that
//! `0 <= claimed <= purchased` holds for both tiers after every single statement:
//!
//! 1. premium purchased += N            (only raises a bound)
//! 2. per moved member: premium claimed += 1 (a new seat is free), standard claimed −= 1
//! 3. standard purchased −= N           (guarded: by now standard claimed fits below it)
//!
//! Runs inside the caller's write transaction, after `inventory::lock_org`. Billing is the
//! caller's (`seat_orders`); seats left free are drained by the caller (`seats_added`).

use std::collections::HashSet;

use serde_json::json;

use crate::domain::seats::inventory::STATUS_ACTIVE;
use crate::domain::{audit, Actor, Tier};
use crate::error::Error;
use crate::store::{self, users::UserRow, DbConn};

/// Who moved up, in order.
#[derive(Debug, Clone, Default)]
pub struct UpgradeOutcome {
    pub moved: Vec<String>,
}

/// Check an upgrade before any write: enough standard seats, and the named members are
/// distinct, at most `n`, and each holds a standard seat of the organization.
pub fn check(conn: &mut DbConn, org_id: &str, n: u32, named: &[String]) -> Result<(), Error> {
    if n == 0 {
        if !named.is_empty() {
            return Err(Error::BadRequest(
                "upgrade_members needs upgrade_standard_to_premium above zero".into(),
            ));
        }
        return Ok(());
    }
    let standard = store::seats::for_org(conn, org_id)?
        .into_iter()
        .find(|p| p.tier == Tier::Standard.as_str())
        .map_or(0, |p| p.purchased);
    if i64::from(n) > standard {
        return Err(Error::BadRequest(format!(
            "cannot upgrade {n} standard seats: the organization has {standard} standard seats"
        )));
    }
    if named.len() > n as usize {
        return Err(Error::BadRequest(format!(
            "upgrade_members names {} members but only {n} seats are upgraded",
            named.len()
        )));
    }
    let mut seen = HashSet::new();
    for id in named {
        if !seen.insert(id.as_str()) {
            return Err(Error::BadRequest(format!(
                "upgrade_members names user '{id}' twice"
            )));
        }
        let holds_standard =
            store::users::find(conn, org_id, id)?.is_some_and(|u| holds_standard_seat(&u));
        if !holds_standard {
            return Err(Error::BadRequest(format!(
                "upgrade_members: user '{id}' does not hold a standard seat in this organization"
            )));
        }
    }
    Ok(())
}

fn holds_standard_seat(u: &UserRow) -> bool {
    u.seat_status == STATUS_ACTIVE && u.seat_tier.as_deref() == Some(Tier::Standard.as_str())
}

/// Convert `n` standard seats to premium, moving members up as needed (see the module doc).
#[tracing::instrument(skip_all, fields(org = %org_id, n))]
pub fn upgrade(
    conn: &mut DbConn,
    org_id: &str,
    n: u32,
    named: &[String],
    actor: &Actor,
) -> Result<UpgradeOutcome, Error> {
    check(conn, org_id, n, named)?;
    let mut outcome = UpgradeOutcome::default();
    if n == 0 {
        return Ok(outcome);
    }
    let n = i64::from(n);
    let now = store::now();
    let standard = store::seats::for_org(conn, org_id)?
        .into_iter()
        .find(|p| p.tier == Tier::Standard.as_str())
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("org {org_id} has no standard pool")))?;
    // 1. Raise premium first: the moves below claim these seats.
    store::seats::add_purchased(conn, org_id, Tier::Premium.as_str(), n, now)?;

    // 2. Named members move up (the owner asked for them), then the longest-seated until the
    //    standard members fit in the seats left.
    let target = standard.purchased - n;
    let mut claimed = standard.claimed;
    for id in named {
        if let Some(user) = store::users::find(conn, org_id, id)? {
            move_up(conn, user, "named", actor)?;
            outcome.moved.push(id.clone());
            claimed -= 1;
        }
    }
    if claimed > target {
        let longest = store::seat_changes::seated_by_seniority(
            conn,
            org_id,
            Tier::Standard.as_str(),
            claimed - target,
        )?;
        for user in longest {
            let id = user.id.clone();
            move_up(conn, user, "longest_seated", actor)?;
            outcome.moved.push(id);
            claimed -= 1;
        }
    }

    // 3. Lower standard; the guard refuses (and the transaction rolls back) if a member
    //    still sits above the new count.
    if !store::seat_changes::remove_purchased(conn, org_id, Tier::Standard.as_str(), n, now)? {
        return Err(Error::Internal(anyhow::anyhow!(
            "upgrade of {n} seats in org {org_id} left {claimed} standard members above {target} seats"
        )));
    }
    audit::record(
        conn,
        org_id,
        actor,
        "seats.upgraded",
        Some(org_id),
        json!({"seats": n, "membersMoved": outcome.moved.len()}),
    )?;
    Ok(outcome)
}

/// Move one standard member to a premium seat: claim premium, release standard, record it.
fn move_up(conn: &mut DbConn, mut user: UserRow, reason: &str, actor: &Actor) -> Result<(), Error> {
    let now = store::now();
    if !store::seats::try_claim(conn, &user.org_id, Tier::Premium.as_str(), now)? {
        return Err(Error::Internal(anyhow::anyhow!(
            "no premium seat free to move user {} up",
            user.id
        )));
    }
    if !store::seats::release(conn, &user.org_id, Tier::Standard.as_str(), now)? {
        return Err(Error::Internal(anyhow::anyhow!(
            "no standard seat claimed to release for user {}",
            user.id
        )));
    }
    // The member keeps its seniority (`seated_at`); its representation changes, so does its version.
    user.seat_tier = Some(Tier::Premium.as_str().into());
    user.version += 1;
    user.updated_at = now;
    store::users::update(conn, &user)?;
    audit::record(
        conn,
        &user.org_id,
        actor,
        "seat.upgraded",
        Some(&user.id),
        json!({"from": "standard", "to": "premium", "reason": reason}),
    )?;
    Ok(())
}
