//! Browser sessions. `id` is the SHA-256 of the cookie's secret, never the secret itself.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::members::MemberRow;
use super::schema::{org_members, web_sessions};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub id: String,
    pub org_id: String,
    pub member_id: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> Q<()> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// An unexpired session with its member, in one indexed read.
pub fn find_live(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Q<Option<(SessionRow, MemberRow)>> {
    web_sessions::table
        .inner_join(org_members::table)
        .filter(web_sessions::id.eq(id))
        .filter(web_sessions::expires_at.gt(now))
        .select((SessionRow::as_select(), MemberRow::as_select()))
        .first(conn)
        .optional()
}

pub fn delete(conn: &mut DbConn, id: &str) -> Q<bool> {
    diesel::delete(web_sessions::table.find(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// Every session of a member (a removal or an account switched off ends them all).
pub fn delete_for_member(conn: &mut DbConn, member_id: &str) -> Q<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::member_id.eq(member_id))).execute(conn)
}

pub fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> Q<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::expires_at.le(now))).execute(conn)
}
