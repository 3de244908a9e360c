//! Invitations: only the SHA-256 of the secret is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::invitations;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub email_norm: String,
    pub role: String,
    pub token_hash: String,
    pub invited_by: String,
    pub status: String,
    pub sent_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub voided_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &InvitationRow) -> Q<()> {
    diesel::insert_into(invitations::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// By id alone: the accept call names no organization; the id comes from the token.
pub fn find(conn: &mut DbConn, id: &str) -> Q<Option<InvitationRow>> {
    invitations::table
        .find(id)
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_in_org(conn: &mut DbConn, org_id: &str, id: &str) -> Q<Option<InvitationRow>> {
    invitations::table
        .filter(invitations::org_id.eq(org_id))
        .filter(invitations::id.eq(id))
        .select(InvitationRow::as_select())
        .first(conn)
        .optional()
}

/// Void every pending invitation of an address; returns how many.
pub fn void_pending(
    conn: &mut DbConn,
    org_id: &str,
    email_norm: &str,
    now: NaiveDateTime,
) -> Q<usize> {
    diesel::update(
        invitations::table
            .filter(invitations::org_id.eq(org_id))
            .filter(invitations::email_norm.eq(email_norm))
            .filter(invitations::status.eq("pending")),
    )
    .set((
        invitations::status.eq("voided"),
        invitations::voided_at.eq(now),
    ))
    .execute(conn)
}

pub fn void(conn: &mut DbConn, org_id: &str, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::org_id.eq(org_id))
            .filter(invitations::id.eq(id))
            .filter(invitations::status.eq("pending")),
    )
    .set((
        invitations::status.eq("voided"),
        invitations::voided_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Mark accepted, only if still pending (two racing accepts: one wins).
pub fn accept(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        invitations::table
            .filter(invitations::id.eq(id))
            .filter(invitations::status.eq("pending")),
    )
    .set((
        invitations::status.eq("accepted"),
        invitations::accepted_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Newest first, optionally only one status.
pub fn list(conn: &mut DbConn, org_id: &str, status: Option<&str>) -> Q<Vec<InvitationRow>> {
    let mut q = invitations::table
        .filter(invitations::org_id.eq(org_id))
        .select(InvitationRow::as_select())
        .order((invitations::sent_at.desc(), invitations::id.asc()))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(invitations::status.eq(s.to_string()));
    }
    q.load(conn)
}
