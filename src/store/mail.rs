//! The mail outbox: messages written in the transaction of the change that causes them and
//! delivered after commit by a background task.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::mail_outbox;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct MailRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub created_at: NaiveDateTime,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &MailRow) -> Q<()> {
    diesel::insert_into(mail_outbox::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Unsent messages due at `now`, oldest first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Q<Vec<MailRow>> {
    mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::next_attempt_at.le(now))
        .order((mail_outbox::created_at.asc(), mail_outbox::id.asc()))
        .limit(limit)
        .select(MailRow::as_select())
        .load(conn)
}

/// What a sent mail's body becomes: it held a one-time invitation token, which must not
/// outlive its delivery in plaintext (the invitation itself stores only a hash).
pub const SENT_BODY: &str = "[delivered; body removed because it carried a one-time token]";

/// Claim a due mail for one sender: its next attempt moves to `lease_until`, guarded by the
/// attempt time the sender read (`seen_next`). Of several processes that read the same due
/// row, exactly one claims it; if that one dies before `mark_sent`, the mail is due again
/// once the lease ends.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    seen_next: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> Q<bool> {
    let n = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(id))
            .filter(mail_outbox::next_attempt_at.eq(seen_next))
            .filter(mail_outbox::sent_at.is_null()),
    )
    .set(mail_outbox::next_attempt_at.eq(lease_until))
    .execute(conn)?;
    Ok(n == 1)
}

/// Mark sent, only if nobody else did (several server processes may deliver), and drop the
/// body.
pub fn mark_sent(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(id))
            .filter(mail_outbox::sent_at.is_null()),
    )
    .set((
        mail_outbox::sent_at.eq(now),
        mail_outbox::attempts.eq(mail_outbox::attempts + 1),
        mail_outbox::last_error.eq(None::<String>),
        mail_outbox::body.eq(SENT_BODY),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn mark_failed(conn: &mut DbConn, id: &str, error: &str, retry_at: NaiveDateTime) -> Q<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            mail_outbox::last_error.eq(error),
            mail_outbox::next_attempt_at.eq(retry_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// How many messages of `kind` went (or wait to go) to one address of an organization since
/// `since`.
pub fn count_since(
    conn: &mut DbConn,
    org_id: &str,
    kind: &str,
    to: &str,
    since: NaiveDateTime,
) -> Q<i64> {
    mail_outbox::table
        .filter(mail_outbox::org_id.eq(org_id))
        .filter(mail_outbox::to_addr.eq(to))
        .filter(mail_outbox::created_at.ge(since))
        .filter(mail_outbox::kind.eq(kind))
        .count()
        .get_result(conn)
}

/// Messages to one address in an organization, oldest first (tests and support).
pub fn to_address(conn: &mut DbConn, org_id: &str, to: &str) -> Q<Vec<MailRow>> {
    mail_outbox::table
        .filter(mail_outbox::org_id.eq(org_id))
        .filter(mail_outbox::to_addr.eq(to))
        .order((mail_outbox::created_at.asc(), mail_outbox::id.asc()))
        .select(MailRow::as_select())
        .load(conn)
}
