//! Seat alert settings and the webhook outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native};
use super::schema::{alert_settings, webhook_outbox};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = alert_settings, treat_none_as_null = true)]
pub struct AlertRow {
    pub org_id: String,
    pub free_seat_threshold: i64,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
    pub last_free: i64,
    pub last_queue_nonempty: bool,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, org_id: &str) -> Q<Option<AlertRow>> {
    // Most organizations have none; a batch holding the organization knows (`held`).
    if super::held::has_alerts(conn, org_id)? == Some(false) {
        return Ok(None);
    }
    native!(conn, |c| cached!(alert_settings::table
        .filter(alert_settings::org_id.eq(org_id))
        .select(AlertRow::as_select())
        .limit(1))
    .get_result(c)
    .optional())
}

/// Insert or replace the settings row. Update-then-insert rather than an upsert (`on_conflict`
/// does not compile on the multi-backend connection); the caller holds the organization lock.
pub fn save(conn: &mut DbConn, row: &AlertRow) -> Q<()> {
    super::held::flush(conn, &row.org_id)?;
    let n = diesel::update(alert_settings::table.filter(alert_settings::org_id.eq(&row.org_id)))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(alert_settings::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

/// Remember the state the alert last saw.
pub fn set_last(
    conn: &mut DbConn,
    org_id: &str,
    free: i64,
    queue_nonempty: bool,
    now: NaiveDateTime,
) -> Q<()> {
    native!(conn, |c| cached!(diesel::update(
        alert_settings::table.filter(alert_settings::org_id.eq(org_id))
    )
    .set((
        alert_settings::last_free.eq(free),
        alert_settings::last_queue_nonempty.eq(queue_nonempty),
        alert_settings::updated_at.eq(now),
    )))
    .rows(c))
    .map(|_| ())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_outbox)]
pub struct OutboxRow {
    pub id: String,
    pub org_id: String,
    pub event: String,
    pub url: String,
    pub body: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn enqueue(conn: &mut DbConn, row: &OutboxRow) -> Q<()> {
    diesel::insert_into(webhook_outbox::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Deliveries due at `now`, oldest first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Q<Vec<OutboxRow>> {
    webhook_outbox::table
        .filter(webhook_outbox::delivered_at.is_null())
        .filter(webhook_outbox::failed_at.is_null())
        .filter(webhook_outbox::next_attempt_at.le(now))
        .order((
            webhook_outbox::next_attempt_at.asc(),
            webhook_outbox::id.asc(),
        ))
        .select(OutboxRow::as_select())
        .limit(limit)
        .load(conn)
}

/// Take a due delivery for this process until `lease_until`; false when another process took
/// it first (its `next_attempt_at` moved). One guarded statement, so two senders cannot both
/// win.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    seen_next: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> Q<bool> {
    let n = diesel::update(
        webhook_outbox::table
            .filter(webhook_outbox::id.eq(id))
            .filter(webhook_outbox::next_attempt_at.eq(seen_next))
            .filter(webhook_outbox::delivered_at.is_null()),
    )
    .set(webhook_outbox::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delivered(conn: &mut DbConn, id: &str, attempts: i32, now: NaiveDateTime) -> Q<()> {
    diesel::update(webhook_outbox::table.filter(webhook_outbox::id.eq(id)))
        .set((
            webhook_outbox::delivered_at.eq(now),
            webhook_outbox::attempts.eq(attempts),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Record a failed attempt: retry at `next`, or give up when `next` is `None`.
pub fn attempt_failed(
    conn: &mut DbConn,
    id: &str,
    attempts: i32,
    error: &str,
    next: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Q<()> {
    let q = webhook_outbox::table.filter(webhook_outbox::id.eq(id));
    match next {
        Some(at) => diesel::update(q)
            .set((
                webhook_outbox::attempts.eq(attempts),
                webhook_outbox::last_error.eq(error),
                webhook_outbox::next_attempt_at.eq(at),
            ))
            .execute(conn),
        None => diesel::update(q)
            .set((
                webhook_outbox::attempts.eq(attempts),
                webhook_outbox::last_error.eq(error),
                webhook_outbox::failed_at.eq(now),
            ))
            .execute(conn),
    }
    .map(|_| ())
}

/// An organization's deliveries, newest first (for tests and operators).
pub fn for_org(conn: &mut DbConn, org_id: &str) -> Q<Vec<OutboxRow>> {
    webhook_outbox::table
        .filter(webhook_outbox::org_id.eq(org_id))
        .order((webhook_outbox::created_at.desc(), webhook_outbox::id.desc()))
        .select(OutboxRow::as_select())
        .load(conn)
}
