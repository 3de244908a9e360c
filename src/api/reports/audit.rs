//! `GET /api/v1/audit` (Owner and above): the audit log, newest first, paged, filtered by
//! subject (`user`), `kind`, and a time range (`since` inclusive, `until` exclusive; RFC 3339
//! or a date, UTC).

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::error::Error;
use crate::startup::AppState;
use crate::store::audit::{self, AuditFilter};

pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    page: Option<i64>,
    per_page: Option<i64>,
    user: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn parse_time(name: &str, s: &str) -> Result<NaiveDateTime, Error> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.naive_utc());
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

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let filter = AuditFilter {
        subject: non_empty(&query.user),
        kind: non_empty(&query.kind),
        since: non_empty(&query.since)
            .map(|s| parse_time("since", &s))
            .transpose()?,
        until: non_empty(&query.until)
            .map(|s| parse_time("until", &s))
            .transpose()?,
    };
    if let (Some(a), Some(b)) = (filter.since, filter.until) {
        if a > b {
            return Err(Error::BadRequest("since is after until".into()));
        }
    }
    let org_id = session.org_id.clone();
    let offset = (page - 1).saturating_mul(per_page);
    let (rows, total) = state
        .db
        .read(move |c| Ok(audit::page(c, &org_id, &filter, offset, per_page)?))
        .await?;
    let events: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "at": super::pending::rfc3339(r.at),
                "at_micros": r.at.and_utc().timestamp_micros(),
                "actor": r.actor,
                "source": r.source,
                "kind": r.kind,
                "subject_id": r.subject_id,
                "detail": serde_json::from_str::<Value>(&r.detail).unwrap_or(Value::String(r.detail)),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "events": events,
        "page": page,
        "per_page": per_page,
        "total": total,
    })))
}
