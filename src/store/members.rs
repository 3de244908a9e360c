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
