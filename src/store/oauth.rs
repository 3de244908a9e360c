//! OAuth 2.0 clients, their secrets and the access tokens issued to them: hashes only.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{oauth_access_tokens, oauth_client_secrets, oauth_clients};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_clients)]
pub struct ClientRow {
    pub id: String,
    pub org_id: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_client_secrets)]
pub struct SecretRow {
    pub id: String,
    pub client_id: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = oauth_access_tokens)]
pub struct AccessTokenRow {
    pub id: String,
    pub client_id: String,
    pub org_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_client(conn: &mut DbConn, row: &ClientRow) -> Q<()> {
    diesel::insert_into(oauth_clients::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_secret(conn: &mut DbConn, row: &SecretRow) -> Q<()> {
    diesel::insert_into(oauth_client_secrets::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_token(conn: &mut DbConn, row: &AccessTokenRow) -> Q<()> {
    diesel::insert_into(oauth_access_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find_client(conn: &mut DbConn, id: &str) -> Q<Option<ClientRow>> {
    oauth_clients::table
        .find(id)
        .select(ClientRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_secret(conn: &mut DbConn, id: &str) -> Q<Option<SecretRow>> {
    oauth_client_secrets::table
        .find(id)
        .select(SecretRow::as_select())
        .first(conn)
        .optional()
}

/// An access token with its client's revocation time (one query per SCIM request).
pub fn find_token(
    conn: &mut DbConn,
    id: &str,
) -> Q<Option<(AccessTokenRow, Option<NaiveDateTime>)>> {
    oauth_access_tokens::table
        .inner_join(oauth_clients::table)
        .filter(oauth_access_tokens::id.eq(id))
        .select((AccessTokenRow::as_select(), oauth_clients::revoked_at))
        .first(conn)
        .optional()
}

pub fn clients(conn: &mut DbConn, org_id: &str) -> Q<Vec<ClientRow>> {
    oauth_clients::table
        .filter(oauth_clients::org_id.eq(org_id))
        .order((oauth_clients::created_at.asc(), oauth_clients::id.asc()))
        .select(ClientRow::as_select())
        .load(conn)
}

pub fn secrets_of(conn: &mut DbConn, client_ids: &[String]) -> Q<Vec<SecretRow>> {
    oauth_client_secrets::table
        .filter(oauth_client_secrets::client_id.eq_any(client_ids))
        .order((
            oauth_client_secrets::created_at.asc(),
            oauth_client_secrets::id.asc(),
        ))
        .select(SecretRow::as_select())
        .load(conn)
}

/// Revoke a live client of the organization; false when there is none.
pub fn revoke_client(conn: &mut DbConn, org_id: &str, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        oauth_clients::table
            .filter(oauth_clients::id.eq(id))
            .filter(oauth_clients::org_id.eq(org_id))
            .filter(oauth_clients::revoked_at.is_null()),
    )
    .set(oauth_clients::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Revoke a live secret of a client; false when there is none.
pub fn revoke_secret(conn: &mut DbConn, client_id: &str, id: &str, now: NaiveDateTime) -> Q<bool> {
    let n = diesel::update(
        oauth_client_secrets::table
            .filter(oauth_client_secrets::id.eq(id))
            .filter(oauth_client_secrets::client_id.eq(client_id))
            .filter(oauth_client_secrets::revoked_at.is_null()),
    )
    .set(oauth_client_secrets::revoked_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

/// Drop a client's access tokens that expire before `before` (expired ones).
pub fn delete_tokens(conn: &mut DbConn, client_id: &str, before: NaiveDateTime) -> Q<usize> {
    diesel::delete(
        oauth_access_tokens::table
            .filter(oauth_access_tokens::client_id.eq(client_id))
            .filter(oauth_access_tokens::expires_at.lt(before)),
    )
    .execute(conn)
}

pub fn touch_client(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> Q<()> {
    diesel::update(oauth_clients::table.find(id))
        .set(oauth_clients::last_used_at.eq(now))
        .execute(conn)
        .map(|_| ())
}

/// Drop every access token of a client (it was revoked).
pub fn delete_all_tokens(conn: &mut DbConn, client_id: &str) -> Q<usize> {
    diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::client_id.eq(client_id)))
        .execute(conn)
}
