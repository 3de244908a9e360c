//! SCIM bearer tokens: only a SHA-256 hash is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native};
use super::schema::scim_tokens;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_tokens)]
pub struct TokenRow {
    pub id: String,
    pub org_id: String,
    pub token_hash: String,
    pub description: String,
    #[diesel(deserialize_as = super::sqlite::Ts)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::sqlite::MaybeTs)]
    pub last_used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = super::sqlite::MaybeTs)]
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &TokenRow) -> Q<()> {
    diesel::insert_into(scim_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Every SCIM request looks its token up: `native!` keeps that lookup cheap.
pub fn find(conn: &mut DbConn, id: &str) -> Q<Option<TokenRow>> {
    native!(conn, |c| cached!(scim_tokens::table
        .find(id)
        .select(TokenRow::as_select())
        .limit(1))
    .get_result(c)
    .optional())
}

pub fn list(conn: &mut DbConn, org_id: &str) -> Q<Vec<TokenRow>> {
    scim_tokens::table
        .filter(scim_tokens::org_id.eq(org_id))
        .order(scim_tokens::created_at.asc())
        .select(TokenRow::as_select())
        .load(conn)
}

/// Revoke; returns false when no live token of that org had the id.
pub fn revoke(conn: &mut DbConn, org_id: &str, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        scim_tokens::table
            .filter(scim_tokens::id.eq(id))
            .filter(scim_tokens::org_id.eq(org_id))
            .filter(scim_tokens::revoked_at.is_null()),
    )
    .set(scim_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Q<()> {
    diesel::update(scim_tokens::table.find(id))
        .set(scim_tokens::last_used_at.eq(now))
        .execute(conn)
        .map(|_| ())
}
