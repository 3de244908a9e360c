//! Seat alerts: an owner sets a free-seat threshold and a webhook. After every seat change,
//! in the same transaction, `after_seat_change` compares the state with the one the alert last
//! saw (kept on the settings row) and writes a webhook event to the outbox when free seats
//! cross below the threshold or the queue stops being empty. `serve` delivers after commit.
//!
//! The state is compared per seat-engine step, not per use case: a release is always followed
//! by a drain in the same transaction, so the hook runs after the drain, not after the
//! release, and a seat that is freed and at once re-given is not an alert.

use serde_json::json;

use crate::domain::{audit, Actor};
use crate::error::Error;
use crate::store::{self, alerts::AlertRow, alerts::OutboxRow, DbConn};

pub const EVENT_BELOW_THRESHOLD: &str = "seats.below_threshold";
pub const EVENT_QUEUE_NONEMPTY: &str = "queue.nonempty";

/// Accepted webhook secret lengths (the URL's limit is `outbound::MAX_URL_LEN`).
const MIN_SECRET_LEN: usize = 16;
const MAX_SECRET_LEN: usize = 512;

/// How the user rows stand when the hook runs: the engine updates a user's row in memory and
/// its caller writes it afterwards, so for that one user the database is not yet current.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// Every row is written (after a drain).
    Written,
    /// This user has just joined the queue (row not written yet).
    Joined,
    /// This user is not pending any more (claimed a seat or left; row not written yet).
    NotPending(&'a str),
}

/// Free seats over all tiers, and whether anyone waits.
fn current(conn: &mut DbConn, org_id: &str, step: Step) -> Result<(i64, bool), Error> {
    let free = store::seats::for_org(conn, org_id)?
        .iter()
        .map(|p| p.purchased - p.claimed)
        .sum();
    let waiting = match step {
        Step::Written => store::reports::queue_nonempty(conn, org_id)?,
        Step::Joined => true,
        Step::NotPending(user) => store::reports::queue_nonempty_except(conn, org_id, user)?,
    };
    Ok((free, waiting))
}

/// Call after a seat-engine step once every row is written (e.g. after a drain).
pub fn after_seat_change(conn: &mut DbConn, org_id: &str) -> Result<(), Error> {
    after_step(conn, org_id, Step::Written)
}

/// Call after a seat-engine step (claim, queueing, drain, leaving the queue), inside its
/// transaction. One primary-key read when the organization has no alert settings.
pub fn after_step(conn: &mut DbConn, org_id: &str, step: Step) -> Result<(), Error> {
    let Some(settings) = store::alerts::find(conn, org_id)? else {
        return Ok(());
    };
    let (free, waiting) = current(conn, org_id, step)?;
    if free == settings.last_free && waiting == settings.last_queue_nonempty {
        return Ok(());
    }
    let threshold = settings.free_seat_threshold;
    if settings.last_free >= threshold && free < threshold {
        fire(
            conn,
            &settings,
            EVENT_BELOW_THRESHOLD,
            json!({"free_seats": free, "free_seats_before": settings.last_free,
                   "threshold": threshold}),
        )?;
    }
    if !settings.last_queue_nonempty && waiting {
        // A user joining now is not written yet: count it in.
        let joining = i64::from(matches!(step, Step::Joined));
        let pending = store::reports::pending_count(conn, org_id)? + joining;
        fire(
            conn,
            &settings,
            EVENT_QUEUE_NONEMPTY,
            json!({"pending": pending, "free_seats": free}),
        )?;
    }
    store::alerts::set_last(conn, org_id, free, waiting, store::now())?;
    Ok(())
}

/// Fire `event` for an organization with alert settings (the webhook when one is set, and
/// the audit log); false when it has none.
pub fn fire_event(
    conn: &mut DbConn,
    org_id: &str,
    event: &str,
    data: serde_json::Value,
) -> Result<bool, Error> {
    let Some(settings) = store::alerts::find(conn, org_id)? else {
        return Ok(false);
    };
    fire(conn, &settings, event, data)?;
    Ok(true)
}

/// Write the event to the outbox (when a webhook is set) and to the audit log.
fn fire(
    conn: &mut DbConn,
    settings: &AlertRow,
    event: &str,
    data: serde_json::Value,
) -> Result<(), Error> {
    let now = store::now();
    let id = uuid::Uuid::new_v4().to_string();
    let seats = crate::domain::seats::inventory::pools(conn, &settings.org_id)?;
    let body = json!({
        "id": id,
        "event": event,
        "organization_id": settings.org_id,
        "occurred_at": now.and_utc().to_rfc3339(),
        "data": data,
        "seats": seats,
    });
    if let Some(url) = &settings.webhook_url {
        store::alerts::enqueue(
            conn,
            &OutboxRow {
                id: id.clone(),
                org_id: settings.org_id.clone(),
                event: event.to_string(),
                url: url.clone(),
                body: body.to_string(),
                attempts: 0,
                next_attempt_at: now,
                delivered_at: None,
                failed_at: None,
                last_error: None,
                created_at: now,
            },
        )?;
    }
    audit::record(
        conn,
        &settings.org_id,
        &Actor::system(),
        "alert.fired",
        None,
        json!({"event": event, "delivery": id, "webhook": settings.webhook_url.is_some(),
               "data": body["data"]}),
    )?;
    Ok(())
}

/// What an owner sets.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    pub free_seat_threshold: i64,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
}

impl AlertConfig {
    /// Parse and check `{"free_seat_threshold": N, "webhook_url": "...", "webhook_secret": "..."}`.
    /// The URL must pass `outbound::check_url` under the operator's `policy`.
    pub fn from_json(
        body: &serde_json::Value,
        policy: &crate::outbound::Policy,
    ) -> Result<AlertConfig, Error> {
        const FIELDS: [&str; 3] = ["free_seat_threshold", "webhook_url", "webhook_secret"];
        let obj = body
            .as_object()
            .ok_or_else(|| Error::BadRequest("the settings must be a JSON object".into()))?;
        if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(Error::BadRequest(format!(
                "unknown field '{k}'; alert settings have {}",
                FIELDS.join(", ")
            )));
        }
        let threshold = obj
            .get("free_seat_threshold")
            .and_then(serde_json::Value::as_i64)
            .filter(|n| (0..=1_000_000_000).contains(n))
            .ok_or_else(|| {
                Error::BadRequest(
                    "free_seat_threshold is required: a whole number of seats, 0 or more".into(),
                )
            })?;
        let text = |k: &str| -> Result<Option<String>, Error> {
            match obj.get(k) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                    Ok(Some(s.trim().to_string()))
                }
                Some(_) => Err(Error::BadRequest(format!("{k} must be a non-empty string"))),
            }
        };
        let url = text("webhook_url")?;
        let secret = text("webhook_secret")?;
        if let Some(u) = &url {
            crate::outbound::check_url(policy, u).map_err(|e| {
                Error::BadRequest(format!(
                    "webhook_url must be an absolute http:// or https:// URL of a public host: {e}"
                ))
            })?;
            match &secret {
                Some(s) if (MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&s.len()) => {}
                _ => {
                    return Err(Error::BadRequest(format!(
                        "webhook_secret is required with a webhook_url: {MIN_SECRET_LEN} to \
                         {MAX_SECRET_LEN} characters, used to sign every delivery"
                    )))
                }
            }
        } else if secret.is_some() {
            return Err(Error::BadRequest(
                "webhook_secret without webhook_url: set both or neither".into(),
            ));
        }
        Ok(AlertConfig {
            free_seat_threshold: threshold,
            webhook_url: url,
            webhook_secret: secret,
        })
    }
}

/// Save the settings; the alert starts from the current state (no event for the past).
pub fn configure(
    conn: &mut DbConn,
    org_id: &str,
    cfg: &AlertConfig,
    actor: &Actor,
) -> Result<AlertRow, Error> {
    crate::domain::seats::inventory::lock_org(conn, org_id)?;
    let (free, waiting) = current(conn, org_id, Step::Written)?;
    let row = AlertRow {
        org_id: org_id.to_string(),
        free_seat_threshold: cfg.free_seat_threshold,
        webhook_url: cfg.webhook_url.clone(),
        webhook_secret: cfg.webhook_secret.clone(),
        last_free: free,
        last_queue_nonempty: waiting,
        updated_at: store::now(),
    };
    store::alerts::save(conn, &row)?;
    audit::record(
        conn,
        org_id,
        actor,
        "alerts.configured",
        Some(org_id),
        // Never the secret.
        json!({"free_seat_threshold": cfg.free_seat_threshold, "webhook_url": cfg.webhook_url}),
    )?;
    Ok(row)
}

pub fn get(conn: &mut DbConn, org_id: &str) -> Result<Option<AlertRow>, Error> {
    Ok(store::alerts::find(conn, org_id)?)
}
