//! The audit log: written in the same transaction as the change it records.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use std::cell::RefCell;

use super::cached::native;
use super::kept::KeptRows;
use super::schema::audit_log;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
// None is NULL, never "leave it out": the INSERT has the same SQL every time and is prepared
// once (diesel re-prepares an INSERT whose column list varies).
#[diesel(table_name = audit_log, treat_none_as_default_value = false)]
pub struct AuditRow {
    pub id: String,
    pub org_id: String,
    #[diesel(deserialize_as = super::sqlite::Ts, serialize_as = super::sqlite::Ts)]
    pub at: NaiveDateTime,
    pub actor: String,
    pub source: String,
    pub kind: String,
    pub subject_id: Option<String>,
    pub detail: String,
}

thread_local! {
    /// The rows of the group-commit batch running on this thread (`deferred`).
    pub(super) static KEPT: RefCell<KeptRows<AuditRow>> = const { RefCell::new(KeptRows::none()) };
}

/// Writes `row`, or keeps it for the group-commit batch running on this thread, which writes
/// it before it commits (`deferred`).
pub fn insert(conn: &mut DbConn, row: AuditRow) -> Q<()> {
    let Some(row) = KEPT.with(|k| k.borrow_mut().keep(row)) else {
        return Ok(());
    };
    native!(conn, |c| diesel::insert_into(audit_log::table)
        .values(row)
        .execute(c))
    .map(|_| ())
}

/// Writes the rows kept so far: a multi-row INSERT on PostgreSQL (at most 65,535 bound
/// parameters a statement: 8 a row), a statement per row on SQLite.
pub(super) fn write_kept(conn: &mut DbConn) -> Q<()> {
    let mut rows = KEPT.with(|k| k.borrow_mut().take());
    const ROWS: usize = 4_000;
    match conn {
        DbConn::Pg(c) => {
            while !rows.is_empty() {
                let rest = rows.split_off(rows.len().min(ROWS));
                diesel::insert_into(audit_log::table)
                    .values(std::mem::replace(&mut rows, rest))
                    .execute(c)?;
            }
        }
        DbConn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(audit_log::table)
                    .values(row)
                    .execute(c)?;
            }
        }
    }
    Ok(())
}

pub fn for_subject(conn: &mut DbConn, org_id: &str, subject: &str) -> Q<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::org_id.eq(org_id))
        .filter(audit_log::subject_id.eq(subject))
        .order((audit_log::at.asc(), audit_log::id.asc()))
        .select(AuditRow::as_select())
        .load(conn)
}

/// Filters of the audit API; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject: Option<String>,
    pub kind: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

fn filtered<'a>(
    org_id: &'a str,
    f: &'a AuditFilter,
) -> audit_log::BoxedQuery<'a, super::MultiBackend> {
    let mut q = audit_log::table
        .filter(audit_log::org_id.eq(org_id))
        .into_boxed();
    if let Some(s) = &f.subject {
        q = q.filter(audit_log::subject_id.eq(s));
    }
    if let Some(k) = &f.kind {
        q = q.filter(audit_log::kind.eq(k));
    }
    if let Some(t) = f.since {
        q = q.filter(audit_log::at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(audit_log::at.lt(t));
    }
    q
}

/// One page of events, newest first, and how many match.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    f: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Q<(Vec<AuditRow>, i64)> {
    let total: i64 = filtered(org_id, f).count().get_result(conn)?;
    let rows = filtered(org_id, f)
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .select(AuditRow::as_select())
        .offset(offset)
        .limit(limit)
        .load(conn)?;
    Ok((rows, total))
}
