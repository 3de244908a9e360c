//! The provisioning log (Admin and above): `GET /api/v1/provisioning-log` (paged, filtered by
//! user, status and time) and `GET /api/v1/provisioning-log/users/{user}` ("why is this user
//! pending / on this tier").

use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::json;

use crate::auth::OwnerSession;
use crate::domain::members::Role;
use crate::domain::provisioning_log::{self, Query};
use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LogQuery {
    user: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

fn time(name: &str, v: Option<String>) -> Result<Option<NaiveDateTime>, Error> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(&s)
                .map(|t| t.naive_utc())
                .map_err(|_| Error::BadRequest(format!("{name} must be an RFC 3339 time: '{s}'")))
        })
        .transpose()
}

pub async fn list(
    session: OwnerSession,
    state: web::Data<AppState>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let q = query.into_inner();
    let query = Query {
        since: time("since", q.since)?,
        until: time("until", q.until)?,
        user: q.user,
        status: q.status,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(100),
    };
    let org = session.org_id.clone();
    let (page, per_page) = (query.page.max(1), query.per_page);
    let (entries, total) = state
        .db
        .read(move |c| provisioning_log::page(c, &org, &query))
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "total": total,
        "page": page,
        "per_page": per_page.clamp(1, provisioning_log::MAX_PER_PAGE),
        "entries": entries,
    })))
}

pub async fn why(
    session: OwnerSession,
    state: web::Data<AppState>,
    user: web::Path<String>,
) -> Result<HttpResponse, Error> {
    session.require(Role::Admin)?;
    let (org, user) = (session.org_id.clone(), user.into_inner());
    let why = state
        .db
        .read(move |c| provisioning_log::why(c, &org, &user))
        .await?;
    Ok(HttpResponse::Ok().json(why))
}
