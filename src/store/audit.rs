//! The audit log: written in the same transaction as the change it records.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub org_id: String,
    pub at: NaiveDateTime,
    pub actor: String,
    pub source: String,
    pub kind: String,
    pub subject_id: Option<String>,
    pub detail: String,
}

pub fn insert(conn: &mut DbConn, row: &AuditRow) -> Q<()> {
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn for_subject(conn: &mut DbConn, org_id: &str, subject: &str) -> Q<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::org_id.eq(org_id))
        .filter(audit_log::subject_id.eq(subject))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select(AuditRow::as_select())
        .load(conn)
}
