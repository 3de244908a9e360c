//! One-use sign-in links mailed to members of organizations without SSO (only hashes stored).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::signin_links;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signin_links)]
pub struct LinkRow {
    pub id: String,
    pub org_id: String,
    pub member_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &LinkRow) -> Q<()> {
    diesel::insert_into(signin_links::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, id: &str) -> Q<Option<LinkRow>> {
    signin_links::table
        .find(id)
        .select(LinkRow::as_select())
        .first(conn)
        .optional()
}

/// Mark used, only if still unused: of two concurrent uses exactly one wins.
pub fn mark_used(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        signin_links::table
            .filter(signin_links::id.eq(id))
            .filter(signin_links::used_at.is_null()),
    )
    .set(signin_links::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Drop links that expired a day ago or more (kept a while so a late click still hears
/// "expired" rather than "not valid").
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> Q<usize> {
    diesel::delete(signin_links::table.filter(signin_links::expires_at.le(before))).execute(conn)
}
