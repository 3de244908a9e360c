//! `GET /api/v1/audit` (Owner and above): the audit log, newest first, paged, filtered by
//! subject (`user`), `kind`, and a time range (`since` inclusive, `until` exclusive; RFC 3339
//! or a date, UTC).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::OwnerSession;
use crate::domain::audit;
use crate::domain::members::Role;
use crate::error::Error;
use crate::state::AppState;

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

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Owner)?;
    let page = query.page.unwrap_or(1).max(1);
    let per_page = query.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let filter = audit::filter(
        query.user.as_deref(),
        query.kind.as_deref(),
        query.since.as_deref(),
        query.until.as_deref(),
    )?;
    let org_id = session.org_id.clone();
    let offset = (page - 1).saturating_mul(per_page);
    let (rows, total) = state
        .db
        .read(move |c| audit::page(c, &org_id, &filter, offset, per_page))
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
