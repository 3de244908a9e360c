//! Organization members (owners, admins, members): who may use the owner API.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::org_members;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = org_members)]
pub struct MemberRow {
    pub id: String,
    pub org_id: String,
    pub email: String,
    pub email_norm: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &MemberRow) -> Q<()> {
    diesel::insert_into(org_members::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> Q<Option<MemberRow>> {
    org_members::table
        .filter(org_members::org_id.eq(org_id))
        .filter(org_members::id.eq(id))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConn, org_id: &str, email_norm: &str) -> Q<Option<MemberRow>> {
    org_members::table
        .filter(org_members::org_id.eq(org_id))
        .filter(org_members::email_norm.eq(email_norm))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

pub fn primary_owner(conn: &mut DbConn, org_id: &str) -> Q<Option<MemberRow>> {
    org_members::table
        .filter(org_members::org_id.eq(org_id))
        .filter(org_members::role.eq("primary_owner"))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()
}

/// Every member of the organization, oldest first (organizations have few people with roles).
pub fn list(conn: &mut DbConn, org_id: &str) -> Q<Vec<MemberRow>> {
    org_members::table
        .filter(org_members::org_id.eq(org_id))
        .order((org_members::created_at.asc(), org_members::id.asc()))
        .select(MemberRow::as_select())
        .load(conn)
}

pub fn set_role(conn: &mut DbConn, org_id: &str, id: &str, role: &str) -> Q<bool> {
    let n = diesel::update(
        org_members::table
            .filter(org_members::org_id.eq(org_id))
            .filter(org_members::id.eq(id)),
    )
    .set(org_members::role.eq(role))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> Q<bool> {
    let n = diesel::delete(
        org_members::table
            .filter(org_members::org_id.eq(org_id))
            .filter(org_members::id.eq(id)),
    )
    .execute(conn)?;
    Ok(n == 1)
}

/// Every membership of one address, across organizations (a sign-in link request names only
/// the address; each organization gets its own mail).
pub fn find_all_by_email(conn: &mut DbConn, email_norm: &str) -> Q<Vec<MemberRow>> {
    org_members::table
        .filter(org_members::email_norm.eq(email_norm))
        .order((org_members::created_at.asc(), org_members::id.asc()))
        .select(MemberRow::as_select())
        .load(conn)
}
