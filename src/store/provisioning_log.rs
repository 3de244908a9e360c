//! The provisioning log: one row per SCIM request.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::provisioning_log as pl;
use super::{DbConn, Q};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = pl)]
pub struct LogRow {
    pub id: String,
    pub org_id: String,
    pub at: NaiveDateTime,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub scim_type: Option<String>,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub resource_name: Option<String>,
    pub user_agent: Option<String>,
    pub token_id: Option<String>,
    pub duration_ms: i64,
    pub decision: Option<String>,
}

/// Rows one PostgreSQL `INSERT` carries: 14 binds a row, well under its 65,535.
const ROWS_PER_INSERT: usize = 1_000;

pub fn insert_many(conn: &mut DbConn, rows: &[LogRow]) -> Q<usize> {
    match conn {
        // One multi-row statement per chunk: a round trip and a statement per row cost the
        // SCIM writes beside them 6–8% of their throughput (docs/benchmarks.md).
        DbConn::Pg(c) => {
            let mut n = 0;
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                n += diesel::insert_into(pl::table).values(chunk).execute(c)?;
            }
            Ok(n)
        }
        // In-process, a statement per row is as cheap (and the batch is one transaction).
        DbConn::Sqlite(_) => {
            let mut n = 0;
            for row in rows {
                n += diesel::insert_into(pl::table).values(row).execute(conn)?;
            }
            Ok(n)
        }
    }
}

/// Filters of a log page.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub resource_id: Option<String>,
    /// Rows whose resource_name folds to this (a userName or displayName).
    pub resource_name: Option<String>,
    pub status_min: Option<i32>,
    pub status_max: Option<i32>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

fn filtered<'a>(org_id: &'a str, f: &'a LogFilter) -> pl::BoxedQuery<'a, super::MultiBackend> {
    let mut q = pl::table.filter(pl::org_id.eq(org_id)).into_boxed();
    if let Some(id) = &f.resource_id {
        q = q.filter(pl::resource_id.eq(id));
    }
    if let Some(name) = &f.resource_name {
        q = q.filter(pl::resource_name.eq(name));
    }
    if let Some(s) = f.status_min {
        q = q.filter(pl::status.ge(s));
    }
    if let Some(s) = f.status_max {
        q = q.filter(pl::status.le(s));
    }
    if let Some(t) = f.since {
        q = q.filter(pl::at.ge(t));
    }
    if let Some(t) = f.until {
        q = q.filter(pl::at.lt(t));
    }
    q
}

/// A page, newest first, and the total.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    f: &LogFilter,
    offset: i64,
    limit: i64,
) -> Q<(Vec<LogRow>, i64)> {
    let rows = filtered(org_id, f)
        .order((pl::at.desc(), pl::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(LogRow::as_select())
        .load(conn)?;
    let total = filtered(org_id, f).count().get_result(conn)?;
    Ok((rows, total))
}

/// `(requests, failed)` of the organization since `since`: failed = 5xx, 401, 403, 409, 400,
/// and any other 4xx but a 404 (an IdP looks resources up and expects 404s).
pub fn health(conn: &mut DbConn, org_id: &str, since: NaiveDateTime) -> Q<(i64, i64)> {
    let total: i64 = pl::table
        .filter(pl::org_id.eq(org_id))
        .filter(pl::at.ge(since))
        .count()
        .get_result(conn)?;
    let failed: i64 = pl::table
        .filter(pl::org_id.eq(org_id))
        .filter(pl::at.ge(since))
        .filter(pl::status.ge(400))
        .filter(pl::status.ne(404))
        .count()
        .get_result(conn)?;
    Ok((total, failed))
}

/// Delete rows older than `before`; returns how many.
/// Delete up to `limit` rows older than `before` (the oldest first); the caller repeats
/// while a full chunk went: one statement never holds the writer, or runs into the time
/// budget, however many rows a long outage left behind.
pub fn prune(conn: &mut DbConn, before: NaiveDateTime, limit: i64) -> Q<usize> {
    let oldest: Vec<String> = pl::table
        .filter(pl::at.lt(before))
        .order(pl::at.asc())
        .select(pl::id)
        .limit(limit)
        .load(conn)?;
    if oldest.is_empty() {
        return Ok(0);
    }
    diesel::delete(pl::table.filter(pl::id.eq_any(oldest))).execute(conn)
}

/// When `event` was last queued for the organization's webhook.
pub fn last_alert(conn: &mut DbConn, org_id: &str, event: &str) -> Q<Option<NaiveDateTime>> {
    use super::schema::webhook_outbox as w;
    w::table
        .filter(w::org_id.eq(org_id))
        .filter(w::event.eq(event))
        .select(diesel::dsl::max(w::created_at))
        .first(conn)
}
