//! Reading the provisioning log: pages filtered by user, status and time; "why is this user
//! pending / on this tier"; and the IdP health figure (share of failed SCIM requests over the
//! last hour).

use chrono::NaiveDateTime;
use serde::Serialize;

use super::events::Event;
use super::{seats::inventory, seats::tier_moves, Tier};
use crate::error::Error;
use crate::store::{self, provisioning_log::LogFilter, provisioning_log::LogRow, DbConn};

pub const MAX_PER_PAGE: i64 = 500;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: String,
    pub at: String,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub scim_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub user_agent: Option<String>,
    pub token_id: Option<String>,
    pub duration_ms: i64,
    pub decision: Option<String>,
}

fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl From<LogRow> for Entry {
    fn from(r: LogRow) -> Entry {
        Entry {
            id: r.id,
            at: rfc3339(r.at),
            method: r.method,
            path: r.path,
            status: r.status,
            scim_type: r.scim_type,
            resource_type: r.resource_type,
            resource_id: r.resource_id,
            resource_name: r.resource_name,
            user_agent: r.user_agent,
            token_id: r.token_id,
            duration_ms: r.duration_ms,
            decision: r.decision,
        }
    }
}

/// What a page asks for, as the API parsed it.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// A user's (or group's) SCIM id, or its userName / displayName.
    pub user: Option<String>,
    /// `201`, or a class: `4xx`, `5xx`, `failed` (any status from 400).
    pub status: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    pub page: i64,
    pub per_page: i64,
}

fn status_range(s: &str) -> Result<(i32, i32), Error> {
    let s = s.trim().to_ascii_lowercase();
    if s == "failed" {
        return Ok((400, 599));
    }
    if let Some(class) = s.strip_suffix("xx") {
        if let Ok(c @ 1..=5) = class.parse::<i32>() {
            return Ok((c * 100, c * 100 + 99));
        }
    }
    match s.parse::<i32>() {
        Ok(code @ 100..=599) => Ok((code, code)),
        _ => Err(Error::BadRequest(format!(
            "status '{s}': use a code (409), a class (4xx) or 'failed'"
        ))),
    }
}

pub fn page(conn: &mut DbConn, org_id: &str, q: &Query) -> Result<(Vec<Entry>, i64), Error> {
    let mut f = LogFilter {
        since: q.since,
        until: q.until,
        ..LogFilter::default()
    };
    if let Some(s) = &q.status {
        let (lo, hi) = status_range(s)?;
        f.status_min = Some(lo);
        f.status_max = Some(hi);
    }
    if let Some(u) = q.user.as_deref().filter(|u| !u.is_empty()) {
        // A SCIM id of this organization, else a name as the IdP sent it.
        match store::users::find(conn, org_id, u)? {
            Some(row) => f.resource_id = Some(row.id),
            None => match store::users::find_by_user_name(conn, org_id, u)? {
                Some(row) => f.resource_id = Some(row.id),
                None => f.resource_name = Some(u.to_string()),
            },
        }
    }
    let per_page = q.per_page.clamp(1, MAX_PER_PAGE);
    let offset = (q.page.max(1) - 1).saturating_mul(per_page);
    let (rows, total) = store::provisioning_log::page(conn, org_id, &f, offset, per_page)?;
    Ok((rows.into_iter().map(Entry::from).collect(), total))
}

/// Why a user is in its seat state, with the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub user_id: String,
    pub user_name: String,
    pub status: String,
    pub tier: Option<String>,
    pub queue_position: Option<i64>,
    pub pending_since: Option<String>,
    /// The tier its groups ask for (group → tier mapping), if any.
    pub requested_tier: Option<Tier>,
    /// A seated user waiting for a seat of another tier.
    pub waiting_for: Option<String>,
    pub explanation: String,
    /// The seat events about it, oldest first (the last 50).
    pub events: Vec<Event>,
    /// The SCIM requests about it, newest first (the last 50).
    pub requests: Vec<Entry>,
}

pub fn why(conn: &mut DbConn, org_id: &str, user: &str) -> Result<Why, Error> {
    let row = match store::users::find(conn, org_id, user)? {
        Some(r) => r,
        None => store::users::find_by_user_name(conn, org_id, user)?
            .ok_or_else(|| Error::not_found("User"))?,
    };
    let queue_position = match row.queue_seq {
        Some(seq) => store::users::queue_positions(conn, org_id, &[seq])?
            .into_iter()
            .find(|(s, _)| *s == seq)
            .map(|(_, p)| p),
        None => None,
    };
    let requested = tier_moves::preferred_tier(conn, org_id, &row.id)?;
    let wait = store::tier_waits::find(conn, org_id, &row.id)?;
    let pools = inventory::pools(conn, org_id)?;
    let free: i64 = pools.iter().map(|p| p.unclaimed).sum();
    let explanation = match row.seat_status.as_str() {
        inventory::STATUS_PENDING => format!(
            "pending at queue position {}: every seat is taken ({} purchased, {} free); it gets \
             the next seat that frees up or is bought, first come first served{}",
            queue_position.unwrap_or(0),
            pools.iter().map(|p| p.purchased).sum::<i64>(),
            free,
            requested.map_or(String::new(), |t| format!(
                " (its groups ask for {t}: it takes {t} if free, else the other tier and waits for {t})"
            )),
        ),
        inventory::STATUS_ACTIVE => {
            let tier = row.seat_tier.clone().unwrap_or_default();
            match (&wait, requested) {
                (Some(w), _) => format!(
                    "holds a {tier} seat and waits for a {} seat (its groups ask for it; none is \
                     free): it moves when one frees up or is bought, first come first served",
                    w.tier
                ),
                (None, Some(t)) if t.as_str() == tier => {
                    format!("holds a {tier} seat, the tier its groups map to")
                }
                _ => format!(
                    "holds a {tier} seat: the highest tier free when it got its seat, or set by an admin"
                ),
            }
        }
        _ => "holds no seat and is not waiting: the IdP sent active=false, or an admin removed \
              it"
        .to_string(),
    };
    let events = store::seat_events::for_subject(conn, org_id, &row.id, 50)?
        .into_iter()
        .map(Event::from_row)
        .collect();
    let (requests, _) = store::provisioning_log::page(
        conn,
        org_id,
        &LogFilter {
            resource_id: Some(row.id.clone()),
            ..LogFilter::default()
        },
        0,
        50,
    )?;
    Ok(Why {
        user_id: row.id,
        user_name: row.user_name,
        status: row.seat_status,
        tier: row.seat_tier,
        queue_position,
        pending_since: row.pending_since.map(rfc3339),
        requested_tier: requested,
        waiting_for: wait.map(|w| w.tier),
        explanation,
        events,
        requests: requests.into_iter().map(Entry::from).collect(),
    })
}

/// Share of failed SCIM requests over the last hour. Entra quarantines a connection whose
/// requests mostly fail over hours; the warning comes at 10 %, well before.
pub const HEALTH_WARNING_SHARE: f64 = 0.10;

#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub window_minutes: i64,
    pub requests: i64,
    pub failed: i64,
    pub failed_share: f64,
    pub warning_share: f64,
    pub warning: bool,
}

pub fn health(conn: &mut DbConn, org_id: &str) -> Result<Health, Error> {
    let since = store::now() - chrono::Duration::hours(1);
    let (requests, failed) = store::provisioning_log::health(conn, org_id, since)?;
    let share = if requests == 0 {
        0.0
    } else {
        ((failed as f64 / requests as f64) * 10_000.0).round() / 10_000.0
    };
    Ok(Health {
        window_minutes: 60,
        requests,
        failed,
        failed_share: share,
        warning_share: HEALTH_WARNING_SHARE,
        warning: requests > 0 && share >= HEALTH_WARNING_SHARE,
    })
}

/// The usage-webhook event sent when failed SCIM requests reach the warning share.
pub const EVENT_IDP_HEALTH: &str = "idp.health_warning";
/// Fewer requests than this in the hour are too few to judge an IdP by.
pub const HEALTH_MIN_REQUESTS: i64 = 10;

/// After failed requests were logged: fire the usage webhook when the IdP's failed share is at
/// the warning level, at most once an hour per organization.
pub fn check_health(conn: &mut DbConn, org_id: &str) -> Result<bool, Error> {
    let h = health(conn, org_id)?;
    if !h.warning || h.requests < HEALTH_MIN_REQUESTS {
        return Ok(false);
    }
    let hour_ago = store::now() - chrono::Duration::hours(1);
    if store::provisioning_log::last_alert(conn, org_id, EVENT_IDP_HEALTH)?
        .is_some_and(|t| t > hour_ago)
    {
        return Ok(false);
    }
    super::seats::alerts::fire_event(
        conn,
        org_id,
        EVENT_IDP_HEALTH,
        serde_json::to_value(&h).map_err(|e| Error::Internal(e.into()))?,
    )
}
