//! Writing audit events, always inside the transaction of the change.

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::Actor;
use crate::error::Error;
use crate::store::audit::AuditFilter;
use crate::store::{self, audit::AuditRow, DbConn};

/// The audit filter as people type it (blank fields are absent): a subject id, a kind, and a
/// time range (`since` inclusive, `until` exclusive; RFC 3339 or a date, UTC).
pub fn filter(
    user: Option<&str>,
    kind: Option<&str>,
    since: Option<&str>,
    until: Option<&str>,
) -> Result<AuditFilter, Error> {
    let given = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let f = AuditFilter {
        subject: given(user),
        kind: given(kind),
        since: given(since).map(|s| parse_time("since", &s)).transpose()?,
        until: given(until).map(|s| parse_time("until", &s)).transpose()?,
    };
    if let (Some(a), Some(b)) = (f.since, f.until) {
        if a > b {
            return Err(Error::BadRequest("since is after until".into()));
        }
    }
    Ok(f)
}

fn parse_time(name: &str, s: &str) -> Result<NaiveDateTime, Error> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
    }
    // A browser's datetime-local field: no seconds, no zone (read as UTC).
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M") {
        return Ok(t);
    }
    if let Some(t) = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
    {
        return Ok(t);
    }
    Err(Error::BadRequest(format!(
        "{name} must be an RFC 3339 time (2026-11-21T10:00:00Z) or a date (2026-11-21)"
    )))
}

/// A page of the audit log, newest first, and the number of events matching.
pub fn page(
    conn: &mut DbConn,
    org_id: &str,
    filter: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64), Error> {
    Ok(store::audit::page(conn, org_id, filter, offset, limit)?)
}

pub fn record(
    conn: &mut DbConn,
    org_id: &str,
    actor: &Actor,
    kind: &str,
    subject: Option<&str>,
    detail: impl Serialize,
) -> diesel::QueryResult<()> {
    // Straight to bytes: a `Value`'s Display goes through the formatting machinery.
    let detail = serde_json::to_string(&detail)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    store::audit::insert(
        conn,
        AuditRow {
            // Time-ordered (v7): new rows append to the id indexes instead of dirtying a random
            // page of each per insert.
            id: uuid::Uuid::now_v7().to_string(),
            org_id: org_id.to_string(),
            at: store::now(),
            actor: actor.id.clone(),
            source: actor.source.as_str().to_string(),
            kind: kind.to_string(),
            subject_id: subject.map(str::to_string),
            detail,
        },
    )
}
