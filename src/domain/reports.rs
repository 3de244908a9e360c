//! Reports for owners and admins: the pending queue (each user, totals, the seats needed to
//! clear it and what buying them today costs) and seat usage (with the alert state). Read-only
//! use cases; pages come from the database in queue order, never the whole queue at once.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::billing::seat_orders::{self, OrderRequest};
use super::billing::{self, Quote, SeatOrder};
use super::{billing::contracts, seats::inventory, seats::tier_moves, Tier};
use crate::error::Error;
use crate::store::{self, reports::From, DbConn};

/// One pending user as every report format shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PendingEntry {
    pub queue_position: i64,
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub source: String,
    pub external_id: Option<String>,
    pub groups: Vec<String>,
    pub requested_tier: Option<Tier>,
    pub pending_since: Option<NaiveDateTime>,
    pub days_waiting: i64,
    /// First-come number: where the next page of a stream starts.
    #[serde(skip)]
    pub queue_seq: i64,
}

/// A page of the queue: `from` says where it starts, `first_position` is the queue position
/// of its first row (the caller knows it: offset + 1, or the count streamed so far + 1).
/// Four queries per page whatever its size: users, emails, groups, group tiers.
pub fn pending_entries(
    conn: &mut DbConn,
    org_id: &str,
    from: From,
    limit: i64,
    first_position: i64,
    now: NaiveDateTime,
) -> Result<Vec<PendingEntry>, Error> {
    let rows = store::reports::pending_page(conn, org_id, from, limit)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    // Primary email, else the first one listed.
    let mut emails: HashMap<String, (bool, String)> = HashMap::new();
    for (user, value, primary, _) in store::reports::emails_of(conn, org_id, &ids)? {
        match emails.get(&user) {
            Some((true, _)) => {}
            Some((false, _)) if !primary => {}
            _ => {
                emails.insert(user, (primary, value));
            }
        }
    }
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    for (user, _gid, name) in store::users::groups_of(conn, org_id, &ids)? {
        groups.entry(user).or_default().push(name);
    }
    let tiers = tier_moves::preferred_tiers(conn, org_id, &ids)?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| PendingEntry {
            queue_position: first_position + i as i64,
            display_name: r
                .display_name
                .clone()
                .unwrap_or_else(|| r.user_name.clone()),
            email: emails.remove(&r.id).map(|(_, v)| v),
            groups: groups.remove(&r.id).unwrap_or_default(),
            requested_tier: tiers.get(&r.id).copied(),
            days_waiting: r
                .pending_since
                .map(|t| (now - t).num_days().max(0))
                .unwrap_or(0),
            pending_since: r.pending_since,
            queue_seq: r.queue_seq,
            source: r.source,
            external_id: r.external_id,
            user_name: r.user_name,
            id: r.id,
        })
        .collect())
}

/// Seats per tier that would let every pending user in.
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct SeatsNeeded {
    pub standard: i64,
    pub premium: i64,
}

/// The whole-queue part of the report: totals, seats needed, the quote.
#[derive(Debug, Clone)]
pub struct PendingSummary {
    pub total: i64,
    pub by_source: Vec<(String, i64)>,
    /// Pending users whose groups ask for premium / standard / nothing.
    pub requested_premium: i64,
    pub requested_standard: i64,
    /// Seated users waiting for a seat of another tier, per tier waited for.
    pub tier_waits: SeatsNeeded,
    pub needed: SeatsNeeded,
    /// What buying `needed` costs today, as the billing preview prices it.
    pub quote: Option<Quote>,
    /// Why there is no quote (empty queue, no contract, contract expired, …).
    pub quote_unavailable: Option<String>,
    pub today: NaiveDate,
}

/// Totals, the seats needed to clear the queue and the quote of buying them on `today`.
///
/// Seats needed: a user whose groups map to premium needs a premium seat; everyone else is
/// let in by a standard seat (the cheapest; a group-mapped standard user gets exactly what it
/// asks for). A seated user waiting for another tier needs a seat of that tier and frees one
/// of its own when served. Free seats are subtracted per tier (normally none: the queue
/// drains first).
pub fn pending_summary(
    conn: &mut DbConn,
    org_id: &str,
    today: NaiveDate,
) -> Result<PendingSummary, Error> {
    let total = store::reports::pending_count(conn, org_id)?;
    let by_source = store::reports::pending_by_source(conn, org_id)?;
    let requested_premium =
        store::reports::pending_in_tier_groups(conn, org_id, &[Tier::Premium.as_str()])?;
    // A user in both a premium and a standard group asks for premium (the policy's rule).
    let requested_any = store::reports::pending_in_tier_groups(
        conn,
        org_id,
        &[Tier::Premium.as_str(), Tier::Standard.as_str()],
    )?;
    let requested_standard = requested_any - requested_premium;
    let free = |tier: Tier, pools: &[inventory::PoolState]| {
        pools
            .iter()
            .find(|p| p.tier == tier.as_str())
            .map_or(0, |p| p.unclaimed)
    };
    let pools = inventory::pools(conn, org_id)?;
    let premium_users = requested_premium;
    let other_users = total - premium_users;
    // Seated users waiting for another tier (group policy): each needs a seat of the tier it
    // waits for and gives back a seat of the other when it moves.
    let mut waits = SeatsNeeded::default();
    for (tier, n) in store::tier_waits::count_by_tier(conn, org_id)? {
        match Tier::parse(&tier) {
            Some(Tier::Premium) => waits.premium = n,
            Some(Tier::Standard) => waits.standard = n,
            None => {}
        }
    }
    let needed = SeatsNeeded {
        premium: (premium_users + waits.premium - free(Tier::Premium, &pools) - waits.standard)
            .max(0),
        standard: (other_users + waits.standard - free(Tier::Standard, &pools) - waits.premium)
            .max(0),
    };
    let (quote, quote_unavailable) = quote_needed(conn, org_id, needed, today)?;
    Ok(PendingSummary {
        total,
        by_source,
        requested_premium,
        requested_standard,
        tier_waits: waits,
        needed,
        quote,
        quote_unavailable,
        today,
    })
}

/// The billing preview of an order adding `needed`; a refusal is a reason, not an error.
fn quote_needed(
    conn: &mut DbConn,
    org_id: &str,
    needed: SeatsNeeded,
    today: NaiveDate,
) -> Result<(Option<Quote>, Option<String>), Error> {
    if needed.standard == 0 && needed.premium == 0 {
        return Ok((None, Some("nobody is waiting: no seats are needed".into())));
    }
    let (Ok(add_standard), Ok(add_premium)) = (
        u32::try_from(needed.standard),
        u32::try_from(needed.premium),
    ) else {
        return Ok((None, Some("the queue is too long to quote".into())));
    };
    let req = OrderRequest {
        order: SeatOrder {
            add_standard,
            add_premium,
            upgrade_standard_to_premium: 0,
        },
        upgrade_members: Vec::new(),
    };
    match seat_orders::preview(conn, org_id, &req, today) {
        Ok(plan) => Ok((Some(plan.quote), None)),
        Err(Error::Conflict(why) | Error::BadRequest(why)) => Ok((None, Some(why))),
        Err(e) => Err(e),
    }
}

/// One tier's usage.
#[derive(Debug, Clone, Serialize)]
pub struct TierUsage {
    pub tier: String,
    pub purchased: i64,
    pub claimed: i64,
    pub free: i64,
    /// claimed / purchased, 0 when nothing is purchased.
    pub utilization: f64,
}

#[derive(Debug, Clone)]
pub struct Usage {
    pub tiers: Vec<TierUsage>,
    pub purchased: i64,
    pub claimed: i64,
    pub free: i64,
    pub utilization: f64,
    pub pending: i64,
    pub threshold: Option<i64>,
    /// Free seats are below the owner's threshold.
    pub warning: bool,
    pub renewal: Option<Renewal>,
}

/// What the next renewal would invoice if it ran with today's seats in use.
#[derive(Debug, Clone)]
pub struct Renewal {
    pub on: NaiveDate,
    pub auto_renew: bool,
    pub seats_in_use: SeatsNeeded,
    pub quote: Option<Quote>,
}

fn ratio(claimed: i64, purchased: i64) -> f64 {
    if purchased <= 0 {
        return 0.0;
    }
    // Four decimals are plenty for a dashboard and keep the JSON tidy.
    ((claimed as f64 / purchased as f64) * 10_000.0).round() / 10_000.0
}

pub fn usage(conn: &mut DbConn, org_id: &str) -> Result<Usage, Error> {
    let tiers: Vec<TierUsage> = inventory::pools(conn, org_id)?
        .into_iter()
        .map(|p| TierUsage {
            utilization: ratio(p.claimed, p.purchased),
            tier: p.tier,
            purchased: p.purchased,
            claimed: p.claimed,
            free: p.unclaimed,
        })
        .collect();
    let purchased = tiers.iter().map(|t| t.purchased).sum();
    let claimed = tiers.iter().map(|t| t.claimed).sum();
    let free = tiers.iter().map(|t| t.free).sum();
    let pending = store::reports::pending_count(conn, org_id)?;
    let threshold = store::alerts::find(conn, org_id)?.map(|a| a.free_seat_threshold);
    let in_use = |tier: Tier| {
        tiers
            .iter()
            .find(|t| t.tier == tier.as_str())
            .map_or(0, |t| t.claimed)
    };
    let seats_in_use = SeatsNeeded {
        standard: in_use(Tier::Standard),
        premium: in_use(Tier::Premium),
    };
    let renewal = match contracts::get(conn, org_id) {
        Ok(c) => Some(Renewal {
            on: c.term.end(),
            auto_renew: c.auto_renew && c.active,
            seats_in_use,
            quote: match (
                u32::try_from(seats_in_use.standard),
                u32::try_from(seats_in_use.premium),
            ) {
                (Ok(s), Ok(p)) => billing::quote_renewal(s, p, &c.prices, &c.currency).ok(),
                _ => None,
            },
        }),
        Err(Error::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    Ok(Usage {
        utilization: ratio(claimed, purchased),
        warning: threshold.is_some_and(|t| free < t),
        tiers,
        purchased,
        claimed,
        free,
        pending,
        threshold,
        renewal,
    })
}

/// The pending report as a page: the whole-queue summary and `limit` users from `offset`.
pub fn pending_page(
    conn: &mut DbConn,
    org_id: &str,
    today: NaiveDate,
    offset: i64,
    limit: i64,
    now: NaiveDateTime,
) -> Result<(PendingSummary, Vec<PendingEntry>), Error> {
    let summary = pending_summary(conn, org_id, today)?;
    let entries = pending_entries(conn, org_id, From::Offset(offset), limit, offset + 1, now)?;
    Ok((summary, entries))
}
