//! The seat event feed and its webhook delivery cursors.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::cell::RefCell;

use super::kept::KeptRows;
use super::schema::{alert_settings, seat_event_cursors, seat_events};
use super::{DbConn, Q};

thread_local! {
    /// The events of the group-commit batch running on this thread (`deferred`).
    pub(super) static KEPT: RefCell<KeptRows<EventRow>> = const { RefCell::new(KeptRows::none()) };
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = seat_events)]
pub struct EventRow {
    pub org_id: String,
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub subject_id: Option<String>,
    pub data: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = seat_event_cursors)]
pub struct CursorRow {
    pub org_id: String,
    pub delivered_seq: i64,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// The last seq of the organization's feed (0 when empty). The caller holds the organization
/// lock, so the next event is this + 1 without a race.
pub fn last_seq(conn: &mut DbConn, org_id: &str) -> Q<i64> {
    // An event of the organization kept for the batch is the last one.
    let kept = KEPT.with(|k| {
        k.borrow()
            .rows()
            .iter()
            .filter(|e| e.org_id == org_id)
            .map(|e| e.seq)
            .max()
    });
    if let Some(seq) = kept {
        return Ok(seq);
    }
    if let Some(seq) = super::held::stored_last_event(conn, org_id)? {
        return Ok(seq);
    }
    seat_events::table
        .filter(seat_events::org_id.eq(org_id))
        .select(diesel::dsl::max(seat_events::seq))
        .first::<Option<i64>>(conn)
        .map(|m| m.unwrap_or(0))
}

/// Writes `row`, or keeps it for the group-commit batch running on this thread (`deferred`).
pub fn insert(conn: &mut DbConn, row: &EventRow) -> Q<()> {
    let kept = KEPT.with(|k| {
        let mut k = k.borrow_mut();
        k.count().is_some() && k.keep(row.clone()).is_none()
    });
    if kept {
        return Ok(());
    }
    diesel::insert_into(seat_events::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Writes the events kept so far: a multi-row INSERT on PostgreSQL (7 bound parameters a
/// row), a statement per row on SQLite.
pub(super) fn write_kept(conn: &mut DbConn) -> Q<()> {
    let rows = KEPT.with(|k| k.borrow_mut().take());
    const ROWS: usize = 4_000;
    match conn {
        DbConn::Pg(c) => {
            for chunk in rows.chunks(ROWS) {
                diesel::insert_into(seat_events::table)
                    .values(chunk)
                    .execute(c)?;
            }
        }
        DbConn::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(seat_events::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

/// The seq of an event of the organization, by id.
pub fn seq_of(conn: &mut DbConn, org_id: &str, id: &str) -> Q<Option<i64>> {
    seat_events::table
        .filter(seat_events::org_id.eq(org_id))
        .filter(seat_events::id.eq(id))
        .select(seat_events::seq)
        .first(conn)
        .optional()
}

/// Events after `seq`, in order.
pub fn after(conn: &mut DbConn, org_id: &str, seq: i64, limit: i64) -> Q<Vec<EventRow>> {
    seat_events::table
        .filter(seat_events::org_id.eq(org_id))
        .filter(seat_events::seq.gt(seq))
        .order(seat_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// Organizations with a webhook: `(org id, url, secret)`.
pub fn webhooks(conn: &mut DbConn) -> Q<Vec<(String, String, String)>> {
    alert_settings::table
        .filter(alert_settings::webhook_url.is_not_null())
        .filter(alert_settings::webhook_secret.is_not_null())
        .select((
            alert_settings::org_id,
            alert_settings::webhook_url.assume_not_null(),
            alert_settings::webhook_secret.assume_not_null(),
        ))
        .load(conn)
}

pub fn cursor(conn: &mut DbConn, org_id: &str) -> Q<Option<CursorRow>> {
    seat_event_cursors::table
        .find(org_id)
        .select(CursorRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_cursor(conn: &mut DbConn, row: &CursorRow) -> Q<()> {
    diesel::insert_into(seat_event_cursors::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Take the delivery lease of an organization's feed when it is due and nobody holds it.
pub fn lease(conn: &mut DbConn, org_id: &str, now: NaiveDateTime, until: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        seat_event_cursors::table
            .filter(seat_event_cursors::org_id.eq(org_id))
            .filter(seat_event_cursors::next_attempt_at.le(now))
            .filter(
                seat_event_cursors::lease_until
                    .is_null()
                    .or(seat_event_cursors::lease_until.lt(now)),
            ),
    )
    .set(seat_event_cursors::lease_until.eq(until))
    .execute(conn)?;
    Ok(n == 1)
}

/// The webhook acknowledged everything up to `seq`.
pub fn delivered(conn: &mut DbConn, org_id: &str, seq: i64, now: NaiveDateTime) -> Q<()> {
    diesel::update(seat_event_cursors::table.find(org_id))
        .set((
            seat_event_cursors::delivered_seq.eq(seq),
            seat_event_cursors::attempts.eq(0),
            seat_event_cursors::last_error.eq(None::<String>),
            seat_event_cursors::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A send failed: try again at `next`; the lease is given back.
pub fn failed(
    conn: &mut DbConn,
    org_id: &str,
    attempts: i32,
    error: &str,
    next: NaiveDateTime,
    now: NaiveDateTime,
) -> Q<()> {
    diesel::update(seat_event_cursors::table.find(org_id))
        .set((
            seat_event_cursors::attempts.eq(attempts),
            seat_event_cursors::last_error.eq(Some(error)),
            seat_event_cursors::next_attempt_at.eq(next),
            seat_event_cursors::lease_until.eq(None::<NaiveDateTime>),
            seat_event_cursors::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn release(conn: &mut DbConn, org_id: &str) -> Q<()> {
    diesel::update(seat_event_cursors::table.find(org_id))
        .set(seat_event_cursors::lease_until.eq(None::<NaiveDateTime>))
        .execute(conn)
        .map(|_| ())
}

/// The last `limit` events about one subject, oldest first.
pub fn for_subject(conn: &mut DbConn, org_id: &str, subject: &str, limit: i64) -> Q<Vec<EventRow>> {
    let mut rows: Vec<EventRow> = seat_events::table
        .filter(seat_events::org_id.eq(org_id))
        .filter(seat_events::subject_id.eq(subject))
        .order(seat_events::seq.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    rows.reverse();
    Ok(rows)
}
