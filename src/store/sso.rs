//! Each organization's SSO (IdP) settings for JIT provisioning.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::sso_settings;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = sso_settings)]
pub struct SsoRow {
    pub org_id: String,
    pub issuer: String,
    pub audience: String,
    pub algorithm: String,
    pub key: String,
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
