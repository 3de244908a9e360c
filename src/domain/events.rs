//! Seat events: the public, ordered feed of what happened to seats and accounts, for the SaaS
//! behind us to act on (grant product access the moment a seat is granted). Each event is
//! written in the transaction of the change it reports, under the organization lock every seat
//! use case takes first, so its per-organization `seq` (1, 2, 3, …) is the commit order. The
//! `id` is stable (receivers de-duplicate on it: webhook delivery is at least once).
//!
//! Most events are the public face of an audit record (`audit::record` calls `emit`), so no
//! seat change can be audited without its event: see `public_kind`.

use serde::Serialize;

use crate::error::Error;
use crate::store::{self, seat_events::EventRow, DbConn};

pub const SEAT_GRANTED: &str = "user.seat_granted";
pub const QUEUED: &str = "user.queued";
pub const SEAT_RELEASED: &str = "user.seat_released";
pub const TIER_CHANGED: &str = "user.tier_changed";
pub const QUEUE_DRAINED: &str = "queue.drained";
pub const SEATS_PURCHASED: &str = "seats.purchased";
pub const INVOICE_ISSUED: &str = "invoice.issued";
pub const CONTRACT_RENEWED: &str = "contract.renewed";

/// The public event an audit kind stands for, if any.
pub fn public_kind(audit_kind: &str) -> Option<&'static str> {
    Some(match audit_kind {
        // A seat claimed on create or reactivation, given from the queue, or handed over.
        "seat.claimed" | "queue.activated" | "seat.reassigned" => SEAT_GRANTED,
        "user.queued" => QUEUED,
        "seat.released" => SEAT_RELEASED,
        "user.tier_changed" | "seat.moved" | "seat.swapped" | "seat.upgraded" => TIER_CHANGED,
        "invoice.issued" => INVOICE_ISSUED,
        "contract.renewed" => CONTRACT_RENEWED,
        _ => return None,
    })
}

/// Append an event to the organization's feed; `data` is a JSON object's text. The caller
/// holds the organization lock (`inventory::lock_org`).
pub fn emit(
    conn: &mut DbConn,
    org_id: &str,
    kind: &str,
    subject: Option<&str>,
    data: String,
) -> diesel::QueryResult<()> {
    let seq = store::seat_events::last_seq(conn, org_id)? + 1;
    store::seat_events::insert(
        conn,
        &EventRow {
            org_id: org_id.to_string(),
            seq,
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_string(),
            subject_id: subject.map(str::to_string),
            data,
            created_at: store::now(),
        },
    )
}

/// `emit` with a serializable payload.
pub fn emit_json(
    conn: &mut DbConn,
    org_id: &str,
    kind: &str,
    subject: Option<&str>,
    data: impl Serialize,
) -> Result<(), Error> {
    let data = serde_json::to_string(&data)
        .map_err(|e| Error::Internal(anyhow::anyhow!("event payload: {e}")))?;
    Ok(emit(conn, org_id, kind, subject, data)?)
}

/// An event as the feed and the webhook show it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: String,
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub occurred_at: String,
    pub subject_id: Option<String>,
    pub data: serde_json::Value,
}

impl Event {
    pub fn from_row(row: EventRow) -> Event {
        Event {
            data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
            occurred_at: row
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            id: row.id,
            seq: row.seq,
            kind: row.kind,
            subject_id: row.subject_id,
        }
    }
}

pub const MAX_PAGE: i64 = 500;

/// Events after the cursor (an event id, or a seq number), oldest first. An unknown id is
/// refused rather than read as "from the start", which would replay the whole feed.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<Event>, Error> {
    let from = match after {
        None | Some("") => 0,
        Some(c) => match c.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => store::seat_events::seq_of(conn, org_id, c)?.ok_or_else(|| {
                Error::BadRequest(format!(
                    "unknown cursor '{c}': pass the id (or seq) of an event of this feed"
                ))
            })?,
        },
    };
    Ok(
        store::seat_events::after(conn, org_id, from, limit.clamp(1, MAX_PAGE))?
            .into_iter()
            .map(Event::from_row)
            .collect(),
    )
}
