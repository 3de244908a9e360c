//! Each organization's OpenID Connect settings, and the sign-ins in flight between
//! `GET /sso/{org}` and its callback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{scim_deleted_emails, scim_user_emails, scim_users, sso_flows, sso_settings};
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sso_settings)]
pub struct SsoRow {
    pub org_id: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub extra_scopes: String,
    pub updated_at: NaiveDateTime,
}

pub fn find(conn: &mut DbConn, org_id: &str) -> Q<Option<SsoRow>> {
    sso_settings::table
        .find(org_id)
        .select(SsoRow::as_select())
        .first(conn)
        .optional()
}

/// Insert or replace (portable: update, then insert when nothing was there).
pub fn put(conn: &mut DbConn, row: &SsoRow) -> Q<()> {
    let n = diesel::update(sso_settings::table.find(&row.org_id))
        .set(row)
        .execute(conn)?;
    if n == 0 {
        diesel::insert_into(sso_settings::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn delete(conn: &mut DbConn, org_id: &str) -> Q<bool> {
    let n = diesel::delete(sso_settings::table.find(org_id)).execute(conn)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_flows)]
pub struct FlowRow {
    pub state_hash: String,
    pub org_id: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_flow(conn: &mut DbConn, row: &FlowRow) -> Q<()> {
    diesel::insert_into(sso_flows::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

/// Remove and return the flow: a second callback with the same state finds nothing.
pub fn take_flow(conn: &mut DbConn, state_hash: &str) -> Q<Option<FlowRow>> {
    diesel::delete(sso_flows::table.find(state_hash))
        .returning((
            sso_flows::state_hash,
            sso_flows::org_id,
            sso_flows::nonce,
            sso_flows::pkce_verifier,
            sso_flows::created_at,
            sso_flows::expires_at,
        ))
        .get_result::<FlowRow>(conn)
        .optional()
}

/// Drop flows nobody finished.
pub fn purge_flows(conn: &mut DbConn, now: NaiveDateTime) -> Q<usize> {
    diesel::delete(sso_flows::table.filter(sso_flows::expires_at.le(now))).execute(conn)
}

/// Remember the addresses of a user the IdP deletes (its userName and emails, normalized).
pub fn remember_deleted(
    conn: &mut DbConn,
    org_id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Q<()> {
    let mut norms: Vec<String> = scim_user_emails::table
        .filter(scim_user_emails::org_id.eq(org_id))
        .filter(scim_user_emails::user_id.eq(user_id))
        .select(scim_user_emails::value_norm)
        .load(conn)?;
    let user_name: Option<String> = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::id.eq(user_id))
        .select(scim_users::user_name_norm)
        .first(conn)
        .optional()?;
    norms.extend(user_name.filter(|u| u.contains('@')));
    norms.sort();
    norms.dedup();
    if norms.is_empty() {
        return Ok(());
    }
    // Portable upsert: drop any earlier record of the same addresses, then insert.
    diesel::delete(
        scim_deleted_emails::table
            .filter(scim_deleted_emails::org_id.eq(org_id))
            .filter(scim_deleted_emails::email_norm.eq_any(&norms)),
    )
    .execute(conn)?;
    // One row at a time: batch inserts do not compile for the multi-backend connection.
    for n in &norms {
        diesel::insert_into(scim_deleted_emails::table)
            .values((
                scim_deleted_emails::org_id.eq(org_id),
                scim_deleted_emails::email_norm.eq(n),
                scim_deleted_emails::deleted_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn was_deleted(conn: &mut DbConn, org_id: &str, email_norm: &str) -> Q<bool> {
    diesel::select(diesel::dsl::exists(
        scim_deleted_emails::table
            .filter(scim_deleted_emails::org_id.eq(org_id))
            .filter(scim_deleted_emails::email_norm.eq(email_norm)),
    ))
    .get_result(conn)
}
